"""SCRAM login with python's scramp over the stdlib clients (imaplib, poplib, smtplib).

Usage: scram_client.py PROTO HOST PORT TLS MECH USER PASSWORD [TAMPER]
  PROTO   imap | pop3 | smtp
  TLS     none | starttls | ssl  (TLS is capped at 1.2: python's ssl gives tls-unique only there)
  MECH    SCRAM-SHA-1 | SCRAM-SHA-256 | SCRAM-SHA-256-PLUS
  TAMPER  none | proof | cb   (flip a bit of the client proof / of the channel binding data)
Prints one JSON object: {"ok": bool, "answer": final server line, "server_verified": bool}.
"""
import base64
import imaplib
import json
import poplib
import smtplib
import ssl
import sys

import scramp

proto, host, port, tls_mode, mech, user, password = sys.argv[1:8]
tamper = sys.argv[8] if len(sys.argv) > 8 else "none"
port = int(port)

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2


class Auth:
    """A challenge/response callback driving scramp, for any of the three clients."""

    def __init__(self, sock):
        cb = None
        if mech.endswith("-PLUS"):
            data = sock.get_channel_binding("tls-unique")
            if tamper == "cb":
                data = bytes([data[0] ^ 1]) + data[1:]
            cb = ("tls-unique", data)
        self.client = scramp.ScramClient([mech], user, password, channel_binding=cb)
        self.step = 0
        self.server_verified = False

    def __call__(self, challenge):
        self.step += 1
        if self.step == 1:
            return self.client.get_client_first()
        if self.step == 2:
            self.client.set_server_first(challenge.decode())
            final = self.client.get_client_final()
            if tamper == "proof":
                head, proof = final.rsplit(",p=", 1)
                raw = bytearray(base64.b64decode(proof))
                raw[0] ^= 1
                final = head + ",p=" + base64.b64encode(bytes(raw)).decode()
            return final
        self.client.set_server_final(challenge.decode())  # raises unless the server proved it has the keys
        self.server_verified = True
        return ""


def imap():
    c = imaplib.IMAP4_SSL(host, port, ssl_context=ctx) if tls_mode == "ssl" else imaplib.IMAP4(host, port)
    if tls_mode == "starttls":
        c.starttls(ssl_context=ctx)
    auth = Auth(c.sock)
    try:
        typ, data = c.authenticate(mech, lambda ch: auth(ch).encode())
        answer = typ + " " + data[0].decode()
        ok = typ == "OK"
    except imaplib.IMAP4.error as e:
        answer, ok = str(e), False
    if ok:
        typ, _ = c.noop()
        ok = typ == "OK"
    c.logout()
    return ok, answer, auth.server_verified


def pop3():
    c = poplib.POP3_SSL(host, port, context=ctx) if tls_mode == "ssl" else poplib.POP3(host, port)
    if tls_mode == "starttls":
        c.stls(context=ctx)
    auth = Auth(c.sock)
    try:
        resp = c._shortcmd("AUTH " + mech)
        while resp.startswith(b"+ ") or resp == b"+":
            challenge = base64.b64decode(resp[2:])
            resp = c._shortcmd(base64.b64encode(auth(challenge).encode()).decode())
        answer, ok = resp.decode(), resp.startswith(b"+OK")
    except poplib.error_proto as e:
        answer, ok = str(e), False
    if ok:
        ok = c.stat() is not None
    c.quit()
    return ok, answer, auth.server_verified


def smtp():
    c = smtplib.SMTP_SSL(host, port, context=ctx) if tls_mode == "ssl" else smtplib.SMTP(host, port)
    c.ehlo("scramp.test")
    if tls_mode == "starttls":
        c.starttls(context=ctx)
        c.ehlo("scramp.test")
    auth = Auth(c.sock)
    first = [True]

    def obj(challenge=None):
        if challenge is None and first[0]:
            first[0] = False
            return auth(b"")
        return auth(challenge)

    try:
        code, resp = c.auth(mech, obj)
        answer, ok = f"{code} {resp.decode()}", code == 235
    except smtplib.SMTPAuthenticationError as e:
        answer, ok = f"{e.smtp_code} {e.smtp_error.decode()}", False
    except smtplib.SMTPException as e:
        answer, ok = str(e), False
    c.quit()
    return ok, answer, auth.server_verified


ok, answer, verified = {"imap": imap, "pop3": pop3, "smtp": smtp}[proto]()
print(json.dumps({"ok": ok, "answer": answer, "server_verified": verified}))
