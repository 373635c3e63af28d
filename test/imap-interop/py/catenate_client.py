"""python3 imaplib against CATENATE (RFC 4469), for test/imap-interop/catenate.test.ts.
imaplib has no CATENATE method: APPEND is sent with imaplib's own command machinery. Its
single trailing literal cannot sit inside the CATENATE list, so the parts here are URLs.

Usage: catenate_client.py HOST PORT USER PASSWORD
Prints one JSON object with what it saw; exits non-zero when a command that must work fails.
"""
import imaplib
import json
import sys

host, port, user, password = sys.argv[1:5]
M = imaplib.IMAP4(host, int(port), timeout=30)
M.login(user, password)
out = {"capabilities": sorted(M.capability()[1][0].decode().split())}

head = b"From: py@example.test\r\nSubject: head source\r\nMessage-ID: <head@example.test>\r\n\r\nignored\r\n"
body = b"From: py@example.test\r\nSubject: body source\r\nMessage-ID: <body@example.test>\r\n\r\nthe body text\r\n"
M.create("Drafts")  # exists already on Mailroom; the NO then is fine
for msg in (head, body):
    typ, dat = M.append("INBOX", None, None, msg)
    if typ != "OK":
        raise SystemExit(f"APPEND failed: {typ} {dat}")
typ, dat = M.select("INBOX")
validity = M.response("UIDVALIDITY")[1][-1].decode()
typ, dat = M.uid("SEARCH", "ALL")
uids = dat[0].decode().split()

url1 = f"/INBOX;UIDVALIDITY={validity}/;UID={uids[0]}/;SECTION=HEADER"
url2 = f";UID={uids[1]}/;SECTION=TEXT"
typ, dat = M._simple_command("APPEND", "Drafts", "CATENATE", f'(URL "{url1}" URL "{url2}")')
out["append"] = [typ, [d.decode() if isinstance(d, bytes) else d for d in dat]]
if typ != "OK":
    raise SystemExit(f"APPEND CATENATE failed: {typ} {dat}")
M.select("Drafts", readonly=True)
typ, dat = M.fetch("1", "(BODY.PEEK[])")
out["message"] = dat[0][1].decode()
typ, dat = M._simple_command("APPEND", "Drafts", "CATENATE", '(URL "/INBOX/;UID=999")')
out["bad"] = [typ, [d.decode() if isinstance(d, bytes) else d for d in dat]]
M.logout()
print(json.dumps(out))
