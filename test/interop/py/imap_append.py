"""python3 imaplib APPENDing one message file to INBOX, for test/interop/append-sizes.test.ts.

Usage: imap_append.py HOST PORT USER PASSWORD FILE
imaplib writes the literal and its closing CRLF in two sends (Lib/imaplib.py
_command), so the CRLF often arrives in a packet of its own.
Prints {"typ": ..., "data": ...} of the APPEND or exits non-zero.
"""
import imaplib
import json
import sys

host, port, user, password, path = sys.argv[1:6]
with open(path, "rb") as f:
    data = f.read()
M = imaplib.IMAP4(host, int(port), timeout=600)  # the test kills a hung process
M.login(user, password)
typ, resp = M.append("INBOX", None, None, data)
M.logout()
print(json.dumps({"typ": typ, "data": [r.decode("latin-1") if isinstance(r, bytes) else str(r) for r in resp]}))
