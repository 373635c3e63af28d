"""python3 imaplib's ACL methods (and xatom for LISTRIGHTS, which imaplib lacks) against the server, for test/imap/acl-clients.test.ts.

Usage: acl_client.py HOST PORT OWNER OWNER_PASS GRANTEE GRANTEE_PASS
The owner shares Projects with the grantee (setacl), reads the ACL back (getacl, myrights,
listrights); the grantee lists and reads it under Other Users/ and asks his rights; the owner
removes the entry (deleteacl). Prints one JSON object: every answer as imaplib returned it.
"""
import imaplib
import json
import sys

host, port, owner, owner_pw, grantee, grantee_pw = sys.argv[1:7]
out = {}


def text(data):
    return [d.decode() if isinstance(d, bytes) else repr(d) for d in data if d is not None]


A = imaplib.IMAP4(host, int(port), timeout=30)
A.login(owner, owner_pw)
out["capabilities"] = A.capability()[1][0].decode().split()  # after login (imaplib keeps the greeting's)
out["setacl"] = A.setacl("Projects", grantee, "lrs")[0]
out["getacl"] = text(A.getacl("Projects")[1])
out["myrights"] = text(A.myrights("Projects")[1])
# imaplib has no listrights(): its extension hook sends the command, the untagged answer is kept
typ, _ = A.xatom("LISTRIGHTS", "Projects", grantee)
out["listrights"] = text(A.response("LISTRIGHTS")[1]) if typ == "OK" else [typ]

B = imaplib.IMAP4(host, int(port), timeout=30)
B.login(grantee, grantee_pw)
shared = '"Other Users/%s/Projects"' % owner
out["list"] = text(B.list()[1])
typ, data = B.select(shared, readonly=False)
out["select"] = [typ, text(data)]
typ, data = B.fetch("1", "(BODY[])")
out["fetched"] = typ == "OK" and any(isinstance(d, tuple) and b"Subject: shared one" in d[1] for d in data)
out["grantee_myrights"] = text(B.myrights(shared)[1])
typ, data = B.store("1", "+FLAGS", "(\\Flagged)")
out["grantee_store_flagged"] = typ
B.logout()

A.select("Projects")
typ, data = A.fetch("1", "(FLAGS)")
out["owner_flags"] = text(data)
out["deleteacl"] = A.deleteacl("Projects", grantee)[0]
out["getacl_after"] = text(A.getacl("Projects")[1])
A.logout()
print(json.dumps(out))
