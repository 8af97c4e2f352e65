#!/usr/bin/env python3
"""weak-literals.py - literal sets for bench_weak_scan.c, from a customer
list CSV: the name column as it is, the company column without its
Chinese legal form (as listbuild.c's listbuild_company_core takes it
off), each value once, one a line.  --head N cuts each value to its first
N bytes between characters, as weakhead.c does (12), and writes each head
once.  --text EML OUT writes the decoded text/plain body of a message.

  weak-literals.py CSV {names,companies,both} [--head N] > LITERALS
  weak-literals.py --text EML OUT
"""
import csv
import email
import sys

FORMS = ["股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "公司"]


def company_core(v):
    again = True
    while again:
        again = False
        for f in FORMS:
            if v.endswith(f) and len(v.encode()) - len(f.encode()) >= 6:
                v = v[:-len(f)].rstrip(" ,")
                again = True
                break
    return v


def head(v, n):
    b = v.encode()
    if n <= 0 or len(b) <= n:
        return v
    k = n
    while k > 0 and (b[k] & 0xC0) == 0x80:
        k -= 1
    return b[:k].decode()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--text":
        msg = email.message_from_binary_file(open(sys.argv[2], "rb"))
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                open(sys.argv[3], "wb").write(part.get_payload(decode=True))
                return 0
        return 1
    if len(sys.argv) not in (3, 5) or sys.argv[2] not in (
            "names", "companies", "both"):
        sys.stderr.write(__doc__)
        return 2
    n = int(sys.argv[4]) if len(sys.argv) == 5 else 0
    seen = set()
    with open(sys.argv[1], encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            vals = []
            if sys.argv[2] in ("names", "both"):
                vals.append(row["name"].strip().lower())
            if sys.argv[2] in ("companies", "both"):
                vals.append(company_core(row["company"].strip().lower()))
            for v in vals:
                v = head(v, n)
                if v and v not in seen:
                    seen.add(v)
                    print(v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
