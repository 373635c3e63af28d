"""python3 poplib retrieving message 1 of a maildrop, for the tests in test/interop/.

Usage: pop3_retr.py HOST PORT USER PASSWORD OUTFILE
Writes RETR 1 as poplib returns it (dot-unstuffed lines, joined with CRLF, plus the
final CRLF) to OUTFILE and prints {"count": messages in the maildrop, "octets": ...}.
"""
import json
import poplib
import sys

host, port, user, password, out = sys.argv[1:6]
p = poplib.POP3(host, int(port), timeout=600)  # the test kills a hung process
p.user(user)
p.pass_(password)
count, _ = p.stat()
resp, lines, octets = p.retr(1)
p.quit()
with open(out, "wb") as f:
    f.write(b"\r\n".join(lines) + b"\r\n")
print(json.dumps({"count": count, "octets": octets}))
