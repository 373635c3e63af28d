"""python3 imaplib, poplib and smtplib logins for test/people/*.test.ts (plain connections
to 127.0.0.1: the server allows passwords without TLS from loopback by default).

Usage: clients.py ACTION HOST PORT USER PASSWORD [ARGS...]
  imap-flags [MAILBOX]  LOGIN, SELECT (INBOX), UID FETCH 1:* (FLAGS); prints {"flags": {uid: [...]}, "unseen": n}
  imap-store UIDS FLAG  LOGIN, SELECT INBOX, UID STORE UIDS +FLAGS (FLAG); prints the flags after
  imap-read             LOGIN, SELECT INBOX, FETCH 1:* (BODY[]) (marks read); prints the flags after
  imap-expunge UID      LOGIN, SELECT INBOX, UID STORE UID +FLAGS (\\Deleted), EXPUNGE; prints the flags after
  imap-login            LOGIN only; prints {"ok": bool, "error": text}
  imap-auth-plain       AUTHENTICATE PLAIN only; prints {"ok": bool, "error": text}
  pop3-user             USER/PASS, STAT; prints {"ok": bool, "count": n, "error": text}
  pop3-auth-plain       AUTH PLAIN, STAT
  pop3-retr             USER/PASS, RETR every message, QUIT
  pop3-dele             USER/PASS, DELE every message, QUIT
  smtp-login            EHLO, AUTH; prints {"ok": bool, "error": text}
  smtp-send FROM TO     EHLO, AUTH, one message; prints {"ok": bool, "error": text}
One JSON object on stdout; a protocol refusal is data, not a crash.
"""
import base64
import imaplib
import json
import poplib
import re
import smtplib
import sys

action, host, port, user, password = sys.argv[1:6]
rest = sys.argv[6:]
port = int(port)
out = {}


def imap_flags(M):
    typ, data = M.uid("FETCH", "1:*", "(FLAGS)")
    flags = {}
    for item in data:
        if not item:
            continue
        text = item.decode() if isinstance(item, bytes) else item[0].decode()
        m = re.search(r"UID (\d+)", text)
        f = re.search(r"FLAGS \(([^)]*)\)", text)
        if m and f:
            flags[m.group(1)] = sorted(x for x in f.group(1).split(" ") if x and x != "\\Recent")  # \Recent is per session
    return flags


try:
    if action.startswith("imap"):
        M = imaplib.IMAP4(host, port, timeout=30)
        if action == "imap-auth-plain":
            M.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (user, password)).encode())
        else:
            M.login(user, password)
        out["ok"] = True
        if action in ("imap-flags", "imap-read", "imap-store", "imap-expunge"):
            box = rest[0] if action == "imap-flags" and rest else "INBOX"
            typ, data = M.select(box)
            if action == "imap-read":
                M.fetch("1:*", "(BODY[])")
            if action == "imap-store":
                typ, data = M.uid("STORE", rest[0], "+FLAGS", "(%s)" % rest[1])
                if typ != "OK":
                    raise imaplib.IMAP4.error("STORE: %s %r" % (typ, data))
            if action == "imap-expunge":
                typ, data = M.uid("STORE", rest[0], "+FLAGS", "(\\Deleted)")
                typ, data = M.expunge()
                if typ != "OK":
                    raise imaplib.IMAP4.error("EXPUNGE: %s %r" % (typ, data))
                out["expunged"] = [int(x) for x in data if x]
            out["flags"] = imap_flags(M)
            M.close()
            typ, data = M.status(box, "(UNSEEN MESSAGES)")
            out["unseen"] = int(re.search(rb"UNSEEN (\d+)", data[0]).group(1))
            out["messages"] = int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
        M.logout()
    elif action.startswith("pop3"):
        P = poplib.POP3(host, port, timeout=30)
        if action == "pop3-auth-plain":
            resp = P._shortcmd("AUTH PLAIN " + base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode())
        else:
            P.user(user)
            P.pass_(password)
        out["ok"] = True
        out["count"] = P.stat()[0]
        if action == "pop3-retr":
            for i in range(1, out["count"] + 1):
                P.retr(i)
        if action == "pop3-dele":
            for i in range(1, out["count"] + 1):
                P.dele(i)
        P.quit()
    elif action.startswith("smtp"):
        S = smtplib.SMTP(host, port, timeout=30)
        S.ehlo("client.test")
        S.login(user, password)
        out["ok"] = True
        if action == "smtp-send":
            sender, to = rest
            msg = "From: %s\r\nTo: %s\r\nSubject: from a device\r\nMessage-ID: <dev-%s@client.test>\r\n\r\nhello\r\n" % (sender, to, port)
            S.sendmail(sender, [to], msg)
        S.quit()
    else:
        raise SystemExit("unknown action " + action)
except (imaplib.IMAP4.error, poplib.error_proto, smtplib.SMTPException) as e:
    out["ok"] = False
    out["error"] = str(e)
print(json.dumps(out))
