"""python3 imaplib against METADATA (RFC 5464) and LIST-METADATA (RFC 9590), for
test/imap-interop/metadata.test.ts. imaplib has no METADATA methods: the commands are
registered and sent with imaplib's own command machinery, responses read as it parses them.

Usage: metadata_client.py HOST PORT USER PASSWORD
Prints one JSON object with what it saw; exits non-zero when a command fails.
"""
import imaplib
import json
import sys

host, port, user, password = sys.argv[1:5]
for name in ("GETMETADATA", "SETMETADATA"):
    imaplib.Commands[name] = ("AUTH", "SELECTED")

M = imaplib.IMAP4(host, int(port), timeout=30)
out = {"capabilities": sorted(M.capabilities)}
M.login(user, password)
out["capabilities_after"] = sorted(M.capability()[1][0].decode().split())


def run(name, *args):
    typ, dat = M._simple_command(name, *args)
    if typ != "OK":
        raise SystemExit(f"{name} failed: {typ} {dat}")
    return M._untagged_response(typ, dat, "METADATA")[1]


def text(items):
    return [i.decode() if isinstance(i, bytes) else [p.decode() for p in i] for i in items if i is not None]


M.create("Labels")
run("SETMETADATA", "Labels", '(/private/vendor/kolab/color "#ff0000" /shared/comment "Family labels")')
out["get"] = text(run("GETMETADATA", "Labels", "(/private/vendor/kolab/color /shared/comment)"))
out["get_depth"] = text(run("GETMETADATA", "(DEPTH infinity)", '""', "/private"))
run("SETMETADATA", '""', '(/private/vendor/client/theme "dark")')
out["server"] = text(run("GETMETADATA", "(DEPTH infinity)", '""', "/private"))
typ, dat = M._simple_command("LIST", '""', "Labels", "RETURN", "(METADATA (/shared/comment))")
out["list_status"] = typ
out["list"] = text(M._untagged_response(typ, dat, "LIST")[1])
out["list_metadata"] = text(M._untagged_response(typ, dat, "METADATA")[1])
try:
    M._simple_command("SETMETADATA", "Labels", '(/shared "x")')
    out["bad"] = "OK"
except imaplib.IMAP4.error as e:  # imaplib raises on BAD
    out["bad"] = str(e)
M.rename("Labels", "Tags")
out["after_rename"] = text(run("GETMETADATA", "Tags", "/shared/comment"))
M.logout()
print(json.dumps(out))
