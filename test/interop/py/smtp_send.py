"""python3 smtplib sending one message file, for test/interop/smtp-sizes.test.ts.

Usage: smtp_send.py mx|submission|lmtp HOST PORT FROM TO FILE [USER PASSWORD]
mx: plain SMTP to the MX port; submission: STARTTLS (certificate not verified) and
AUTH; lmtp: smtplib.LMTP. The message is passed as bytes, so smtplib writes it
whole with the final "." in the same send: the pattern that real MTAs use.
Prints one JSON object (the refused recipients, the last reply) or exits non-zero.
"""
import json
import smtplib
import ssl
import sys

mode, host, port, sender, rcpt, path = sys.argv[1:7]
with open(path, "rb") as f:
    data = f.read()
# 8BITMIME: the 8bit rows carry bytes over 0x7F (RFC 6152); harmless for 7bit rows.
options = ["BODY=8BITMIME"]
# The test kills this process when it hangs; a socket timeout here would only hide which side hung.
timeout = 600
if mode == "lmtp":
    s = smtplib.LMTP(host, int(port), local_hostname="client.test", timeout=timeout)
    s.ehlo("client.test")
else:
    s = smtplib.SMTP(host, int(port), local_hostname="client.test", timeout=timeout)
    s.ehlo()
if mode == "submission":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo()
    s.login(sys.argv[7], sys.argv[8])
refused = s.sendmail(sender, [rcpt], data, mail_options=options)
code, text = s.noop()
s.quit()
print(json.dumps({"refused": {k: [v[0], v[1].decode()] for k, v in refused.items()}, "noop": code}))
