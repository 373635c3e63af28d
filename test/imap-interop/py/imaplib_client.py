"""python3 imaplib (an IMAP4rev1 client) against the server, for test/imap-interop/imaplib.test.ts.

Usage: imaplib_client.py starttls|ssl HOST PORT USER PASSWORD
Expects INBOX to hold exactly the two messages the test delivered (subjects
"Hello from imaplib" and "Second message"). Prints one JSON object with what it saw;
the test asserts on it. Exits non-zero (with the traceback) when a command fails.
"""
import email
import imaplib
import json
import re
import ssl
import sys

mode, host, port, user, password = sys.argv[1:6]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

if mode == "ssl":
    M = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx, timeout=30)
else:
    M = imaplib.IMAP4(host, int(port), timeout=30)
    M.starttls(ssl_context=ctx)

out = {"capabilities": sorted(M.capabilities)}
typ, data = M.login(user, password)
out["login"] = typ

typ, data = M.list()
out["list"] = [line.decode() for line in data]

typ, data = M.select("INBOX")
out["select"] = typ
out["exists"] = int(data[0])

typ, data = M.search(None, "ALL")
out["search_all"] = data[0].decode().split()
typ, data = M.search(None, '(SUBJECT "second")')
out["search_subject"] = data[0].decode().split()
typ, data = M.uid("SEARCH", None, "ALL")
uids = data[0].decode().split()
out["uids"] = uids

typ, data = M.fetch("1", "(RFC822)")
msg = email.message_from_bytes(data[0][1])
out["rfc822_subject"] = msg["Subject"]
out["rfc822_body"] = msg.get_payload()

typ, data = M.fetch("2", "(BODY.PEEK[HEADER])")
out["header"] = data[0][1].decode()

typ, data = M.fetch("1:2", "(BODYSTRUCTURE)")
out["bodystructure"] = [d.decode() if isinstance(d, bytes) else d[0].decode() for d in data]

typ, data = M.fetch("1:2", "(FLAGS)")
out["flags_after_fetch"] = [d.decode() for d in data]

typ, data = M.store("2", "+FLAGS", "(\\Flagged $label1)")
out["store"] = [d.decode() for d in data]

typ, data = M.copy("1:2", "Archive")
out["copy"] = typ
out["copy_response"] = [d.decode() if isinstance(d, bytes) else str(d) for d in data]

typ, data = M.store("1", "+FLAGS", "(\\Deleted)")
typ, data = M.expunge()
out["expunge"] = [d.decode() for d in data if d is not None]

typ, data = M.uid("FETCH", "1:*", "(UID FLAGS)")
out["after_expunge"] = [d.decode() for d in data]

typ, data = M.status("Archive", "(MESSAGES UIDNEXT UNSEEN)")
out["archive_status"] = data[0].decode()

# CONDSTORE (RFC 7162): HIGHESTMODSEQ on SELECT, CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ
typ, data = M.select("INBOX")
hms = int(M.response("HIGHESTMODSEQ")[1][-1])
out["highestmodseq"] = hms
typ, data = M.uid("STORE", uids[1], "+FLAGS", "(\\Answered)")
out["condstore_store"] = [d.decode() for d in data]
typ, data = M.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %d)" % hms)
out["changedsince"] = [d.decode() for d in data if d is not None]
typ, data = M.uid("SEARCH", None, "MODSEQ", str(hms + 1))
out["search_modseq"] = data[0].decode()
typ, data = M.uid("STORE", uids[1], "(UNCHANGEDSINCE %d) +FLAGS" % hms, "(\\Draft)")
out["unchangedsince"] = [typ] + [d.decode() for d in data if d is not None]
out["modified"] = M.response("MODIFIED")[1][-1].decode()

M.close()
typ, data = M.logout()
out["logout"] = typ
print(json.dumps(out))
