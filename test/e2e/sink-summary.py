#!/usr/bin/env python3
"""sink-summary.py - what the e2e sink received, one JSON object a line.

    sink-summary.py DIR

For every NNNNNN.eml (and its .env) in DIR, in order: {"n", "from", "to",
"subject" (decoded), "msgid", "notice" / "release" (custos' headers
present), "text" (the decoded text/plain body, "" when there is none)}.
The tests read notices with it: their subjects are RFC 2047 and their
bodies base64, so grep on the raw files would see neither.
"""
import email
import glob
import json
import os
import sys
from email import policy


def text_of(msg):
    try:
        part = msg.get_body(("plain",))
        return part.get_content() if part is not None else ""
    except (LookupError, KeyError, ValueError):
        return ""


def main():
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.eml"))):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=policy.default)
        with open(path[:-4] + ".env", encoding="utf-8") as f:
            env = json.load(f)
        print(json.dumps({
            "n": int(os.path.basename(path)[:-4]),
            "from": env.get("mail_from"),
            "to": env.get("rcpt_to"),
            "subject": str(msg["Subject"] or ""),
            "msgid": str(msg["Message-ID"] or ""),
            "notice": msg["X-Custos-Notice"] is not None,
            "release": msg["X-Custos-Release"] is not None,
            "text": text_of(msg),
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
