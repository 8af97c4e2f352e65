#!/usr/bin/env python3
"""sink.py - SMTP sink for the custos end-to-end tests.

The private Postfix used by test/e2e relays every message to this server,
which stores it instead of delivering it:

    sink.py --port N --dir DIR [--pidfile F]

Listens on 127.0.0.1:N only and speaks just enough ESMTP for Postfix's
smtp(8) client: EHLO (PIPELINING, SIZE, 8BITMIME, SMTPUTF8), HELO, MAIL,
RCPT, DATA, RSET, NOOP, VRFY, QUIT.  Pipelined commands work because input
is handled strictly line by line.  Several connections are served at once.

For every accepted message it writes, in DIR:
    NNNNNN.env  JSON {"mail_from": ..., "rcpt_to": [...], "helo": ...}
    NNNNNN.eml  the message exactly as received after dot-unstuffing:
                raw bytes, line endings kept as the client sent them.
Both are written to DIR/tmp first and renamed into place, the .env before
the .eml, so a visible NNNNNN.eml always means a complete message.  NNNNNN
counts from 000001 in order of completion (continuing after any messages
already in DIR).

SIGTERM or SIGINT closes the listener and exits with status 0.
Only the Python 3 standard library is used (asyncio, not smtpd).
"""

import argparse
import asyncio
import json
import os
import re
import signal
import sys

MAX_LINE = 16 * 1024 * 1024      # asyncio reader limit: long lines are fine
MAX_SIZE = 100 * 1024 * 1024     # advertised SIZE
HOSTNAME = "sink.custos-e2e.localdomain"
PATH_RE = re.compile(rb"^\s*<([^>]*)>(.*)$")


class Store:
    """Numbers and writes finished messages atomically."""

    def __init__(self, directory):
        self.dir = directory
        self.tmp = os.path.join(directory, "tmp")
        os.makedirs(self.tmp, exist_ok=True)
        self.seq = self._highest_existing()

    def _highest_existing(self):
        high = 0
        for name in os.listdir(self.dir):
            stem, ext = os.path.splitext(name)
            if ext == ".eml" and stem.isdigit():
                high = max(high, int(stem))
        return high

    def _put(self, name, data):
        tmp = os.path.join(self.tmp, name)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.dir, name))

    def save(self, envelope, message):
        self.seq += 1
        stem = "%06d" % self.seq
        env = json.dumps(envelope, ensure_ascii=False, indent=1) + "\n"
        self._put(stem + ".env", env.encode("utf-8"))
        self._put(stem + ".eml", message)
        return stem


def text(raw):
    return raw.decode("utf-8", errors="replace")


def parse_path(arg):
    """'FROM:<a@b> SIZE=1' after the verb -> 'a@b' (None if malformed)."""
    m = PATH_RE.match(arg)
    return text(m.group(1)) if m else None


class Session:
    """One SMTP connection."""

    def __init__(self, store, reader, writer):
        self.store = store
        self.reader = reader
        self.writer = writer
        self.helo = None
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpt_to = []

    async def reply(self, line):
        self.writer.write(line.encode("utf-8") + b"\r\n")
        await self.writer.drain()

    async def run(self):
        await self.reply("220 %s ESMTP custos-e2e sink" % HOSTNAME)
        while True:
            line = await self.reader.readline()
            if not line:
                return
            verb, _, arg = line.rstrip(b"\r\n").partition(b" ")
            handler = getattr(self, "do_" + text(verb).upper(), None)
            if handler is None or not verb.isalpha():
                await self.reply("502 5.5.2 command not recognized")
            elif await handler(arg) == "quit":
                return

    async def do_EHLO(self, arg):
        self.helo = text(arg)
        self.reset()
        for ext in ("PIPELINING", "SIZE %d" % MAX_SIZE, "8BITMIME",
                    "SMTPUTF8", "ENHANCEDSTATUSCODES"):
            await self.reply("250-" + ext)
        await self.reply("250 HELP")

    async def do_HELO(self, arg):
        self.helo = text(arg)
        self.reset()
        await self.reply("250 %s" % HOSTNAME)

    async def do_MAIL(self, arg):
        if not arg.upper().startswith(b"FROM:"):
            return await self.reply("501 5.5.4 syntax: MAIL FROM:<address>")
        if self.mail_from is not None:
            return await self.reply("503 5.5.1 nested MAIL command")
        path = parse_path(arg[5:])
        if path is None:
            return await self.reply("501 5.1.7 bad sender address syntax")
        self.mail_from = path
        await self.reply("250 2.1.0 Ok")

    async def do_RCPT(self, arg):
        if not arg.upper().startswith(b"TO:"):
            return await self.reply("501 5.5.4 syntax: RCPT TO:<address>")
        if self.mail_from is None:
            return await self.reply("503 5.5.1 need MAIL command")
        path = parse_path(arg[3:])
        if not path:
            return await self.reply("501 5.1.3 bad recipient address syntax")
        self.rcpt_to.append(path)
        await self.reply("250 2.1.5 Ok")

    async def do_DATA(self, arg):
        if not self.rcpt_to:
            return await self.reply("503 5.5.1 need RCPT command")
        await self.reply("354 End data with <CR><LF>.<CR><LF>")
        message = await self.read_data()
        if message is None:
            return "quit"
        envelope = {"mail_from": self.mail_from, "rcpt_to": self.rcpt_to,
                    "helo": self.helo}
        stem = self.store.save(envelope, message)
        self.reset()
        await self.reply("250 2.0.0 Ok: stored as %s" % stem)

    async def read_data(self):
        """Lines up to the lone dot, unstuffed; None on EOF."""
        chunks = []
        while True:
            line = await self.reader.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(chunks)
            if line.startswith(b"."):
                line = line[1:]
            chunks.append(line)

    async def do_RSET(self, arg):
        self.reset()
        await self.reply("250 2.0.0 Ok")

    async def do_NOOP(self, arg):
        await self.reply("250 2.0.0 Ok")

    async def do_VRFY(self, arg):
        await self.reply("252 2.0.0 cannot VRFY, send some mail")

    async def do_QUIT(self, arg):
        await self.reply("221 2.0.0 Bye")
        return "quit"


async def serve(args):
    store = Store(args.dir)

    async def client(reader, writer):
        try:
            await Session(store, reader, writer).run()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError,
                asyncio.CancelledError):
            pass    # client went away, line too long, or we are stopping
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", args.port,
                                        limit=MAX_LINE, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    async with server:
        await stop.wait()
    server.close()


def main():
    p = argparse.ArgumentParser(description="SMTP sink for custos e2e tests")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--pidfile")
    args = p.parse_args()
    try:
        asyncio.run(serve(args))
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
