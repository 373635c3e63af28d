"""python3 imaplib against the IMAP behaviours of issue 9, for test/imap-interop/compliance.test.ts.

Usage: compliance_client.py HOST PORT USER PASSWORD   (implicit TLS, certificate not verified)
The user starts with INBOX only in use. Prints one JSON object with what imaplib saw; the
test asserts on it. A BAD (imaplib raises IMAP4.error) is recorded as "BAD", not a crash.
"""
import imaplib
import json
import re
import ssl
import sys

host, port, user, password = sys.argv[1:5]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def connect():
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx, timeout=30)
    m.login(user, password)
    return m


def status_of(fn, *args):
    """The tagged status of a command; imaplib raises on BAD, which is what we look for."""
    try:
        typ, _ = fn(*args)
        return typ
    except imaplib.IMAP4.error as e:
        return "BAD" if "BAD" in str(e) or "error" in str(e) else str(e)


def lines(data):
    return [d.decode() for d in data if d is not None]


def msg(subject, extra=""):
    return (f"From: bob@example.test\r\nSubject: {subject}\r\n{extra}\r\nbody {subject}\r\n").encode()


M = connect()
caps = sorted(M.capability()[1][0].decode().upper().split())  # after login: imaplib keeps the greeting's list
out = {"capabilities": caps}

# 3. names that exist nowhere or are not modified UTF-7: NO or an empty OK, never BAD
out["names"] = {
    "select_undecodable": status_of(M.select, "&Jjo"),
    "select_missing": status_of(M.select, "nosuch"),
    "status_undecodable": status_of(M.status, "&Jjo", "(MESSAGES)"),
    "create_undecodable": status_of(M.create, "&Jjo"),
    "list_undecodable": status_of(M.list, '""', "&Jjo"),
    "lsub_undecodable": status_of(M.lsub, '""', "&Jjo"),
}

# 4. LSUB with "%" and LIST (SUBSCRIBED RECURSIVEMATCH), RFC 5258 example 9
M.create("deep/a/b")
M.subscribe("deep/a/b")
out["lsub_percent"] = lines(M.lsub('""', "deep/%")[1])
for n in ["foo2", "baz2", "eps2", "foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222", "eps2/mamba", "qux2/bar2"]:
    M.create(n)
for n in ["foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222", "eps2", "eps2/mamba", "qux2/bar2"]:
    M.subscribe(n)
typ, dat = M._simple_command("LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', '"*2"')
out["recursivematch"] = sorted(lines(M._untagged_response(typ, dat, "LIST")[1]))

# 5. MOVE and COPY into the selected mailbox
M.create("Self")
for s in ["one", "two", "three"]:
    M.append("Self", None, None, msg(s))
M.select("Self")
M.response("EXISTS")
typ, data = M.uid("MOVE", "2", "Self")
out["move_self"] = {
    "status": typ,
    "copyuid": [d.decode() for d in (M.response("COPYUID")[1] or []) if d],
    "expunge": lines(M.response("EXPUNGE")[1]),
    "exists": lines(M.response("EXISTS")[1]),
}
typ, data = M.copy("1", "Self")
out["copy_self"] = {"status": typ, "exists": lines(M.response("EXISTS")[1])}
out["uids_after"] = M.uid("SEARCH", None, "ALL")[1][0].decode().split()

# 6. SEARCH FROM/TO by the address as ENVELOPE parses it
M.append("Self", None, None, msg("addr", 'Cc: "Bob =?utf-8?q?M=C3=BCller?=" <user-from (comment)@ (comment) domain.org>\r\n'))
M.select("Self")
out["search_cc"] = M.search(None, "CC", "user-from@domain.org")[1][0].decode().split()
out["search_cc_name"] = M.search(None, "CC", '"bob m"')[1][0].decode().split()

# 1. \Recent after DELETE and CREATE of the same name, across two sessions
M.create("Again")
M.append("Again", None, None, msg("old"))
M.select("Again")
M.close()
M.delete("Again")
M.create("Again")
N = connect()
N.append("Again", None, None, msg("new"))
M.select("Again")
out["recent_first"] = lines(M.response("RECENT")[1])
out["recent_first_search"] = M.search(None, "NEW")[1][0].decode().split()
N.select("Again", readonly=True)
out["recent_second"] = lines(N.response("RECENT")[1])
out["recent_second_search"] = N.search(None, "OLD")[1][0].decode().split()
N.logout()

# 7. OBJECTID, when advertised
if "OBJECTID" in caps:
    typ, data = M.status("Self", "(MAILBOXID)")
    out["mailboxid"] = lines(data)
    typ, data = M.fetch("1", "(EMAILID THREADID)")
    out["emailid"] = lines(data)

M.logout()
print(json.dumps(out))
