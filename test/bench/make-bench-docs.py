#!/usr/bin/env python3
"""make-bench-docs.py - the attachments the extraction benchmark reads.

    make-bench-docs.py OUTDIR [MEGABYTES]      (default 5)

Writes, each about MEGABYTES in size, made of customer-export-like rows
(record id, name, mobile, e-mail, company):
    bench.xlsx   one sheet, shared strings, mobiles as numbers
    bench.docx   a table, one row a paragraph
    bench.pdf    Helvetica text pages (uncompressed content streams)
    bench.zip    the three above in one zip
Python's standard library only, so anyone can see what is in them.
"""
import io
import os
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "fixtures", os.path.join(os.path.dirname(__file__), "..", "fixtures",
                             "make-fixtures.py"))
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)


def rows(n):
    for i in range(1, n + 1):
        c = fixtures.customer(i % 200000 + 1)
        yield ["C%07d" % i, c["name"], c["mobile"], c["email"], c["company"]]


def grow(make, target):
    """Calls make(n) with a growing row count until the output reaches
    target bytes; returns the output."""
    n = 1000
    while True:
        data = make(n)
        if len(data) >= target:
            return data
        n = int(n * max(1.2, target / max(len(data), 1)))


def xlsx(n):
    return fixtures.xlsx("customers", list(rows(n)))


def docx(n):
    body = []
    for r in rows(n):
        body.append("<w:p><w:r><w:t>%s</w:t></w:r></w:p>" %
                    fixtures.xml_escape("  ".join(r)))
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://'
            'schemas.openxmlformats.org/package/2006/content-types"><Default '
            'Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/word/'
            'document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
            'http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/'
            'document.xml"/></Relationships>' % rel,
        "word/document.xml":
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="%s">'
            '<w:body>%s</w:body></w:document>' % (w, "".join(body)),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode("utf-8"))
    return out.getvalue()


def pdf(n):
    """Pages of 50 ASCII lines (ids, mobiles, e-mails: Helvetica has no
    CJK), uncompressed so the size is the text's."""
    lines = [" ".join((r[0], r[2], r[3])) for r in rows(n)]
    pages = [lines[i:i + 50] for i in range(0, len(lines), 50)]
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", None,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in pages:
        text = "BT /F1 9 Tf 40 800 Td 12 TL " + " ".join(
            "(%s) '" % ln.replace("\\", "\\\\").replace("(", "\\(")
            .replace(")", "\\)") for ln in page) + " ET"
        objs.append("<< /Length %d >>\nstream\n%s\nendstream" %
                    (len(text), text))
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                    "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R"
                    " >>" % (len(objs)))
        kids.append(len(objs))
    objs[1] = "<< /Type /Pages /Kids [%s] /Count %d >>" % (
        " ".join("%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (i, o.encode("latin-1")))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objs) + 1, xref))
    return out.getvalue()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make-bench-docs.py OUTDIR [MEGABYTES]")
    out = sys.argv[1]
    target = int(float(sys.argv[2] if len(sys.argv) == 3 else 5) * 2 ** 20)
    os.makedirs(out, exist_ok=True)
    made = {}
    for name, make in (("bench.xlsx", xlsx), ("bench.docx", docx),
                       ("bench.pdf", pdf)):
        made[name] = grow(make, target)
        with open(os.path.join(out, name), "wb") as fp:
            fp.write(made[name])
    with zipfile.ZipFile(os.path.join(out, "bench.zip"), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for name, data in made.items():
            z.writestr(name, data)


if __name__ == "__main__":
    main()
