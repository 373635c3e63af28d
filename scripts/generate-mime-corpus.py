#!/usr/bin/env python3
"""Write the MIME test corpus: test/fixtures/mime/corpus/NNN-short-name.eml.

Deterministic: the same script always writes the same bytes, so the committed corpus
can be regenerated and diffed. Messages are written here (not by hand) because most
must end lines with CRLF, some must not, and some are large or repetitive.

Each case is text with '\n' line ends; CRLF is applied unless the case says `lf=True`
(or gives raw bytes). `enc` is the codec used to turn the text into bytes, so 8-bit
bodies in latin1/koi8-r/... carry their real charset bytes.

Usage: python3 scripts/generate-mime-corpus.py [--out DIR]
"""
import base64
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'mime', 'corpus')

CASES = []  # (name, bytes)


def add(name, text, enc='utf-8', lf=False):
    """Register a case given as text; CRLF line ends unless lf."""
    if not lf:
        text = text.replace('\n', '\r\n')
    CASES.append((name, text.encode(enc)))


def add_bytes(name, data):
    """Register a case given as exact bytes."""
    CASES.append((name, data))


def crlf(text):
    return text.replace('\n', '\r\n').encode('ascii')


def b64(data, width=76):
    """Base64 with lines of `width` characters, '\n' separated (CRLF added later)."""
    s = base64.b64encode(data).decode('ascii')
    return '\n'.join(s[i:i + width] for i in range(0, len(s), width))


def pattern(n, seed):
    """n deterministic pseudo-random bytes (a small LCG: no dependency on `random`)."""
    out = bytearray()
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


FAKE_PDF = b'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n' + pattern(600, 1) + b'\n%%EOF\n'
FAKE_PNG = b'\x89PNG\r\n\x1a\n' + pattern(300, 2)
FAKE_GIF = b'GIF89a' + pattern(120, 3)
FAKE_ZIP = b'PK\x03\x04' + pattern(400, 4)

H = """From: Alice Example <alice@example.test>
To: Bob Example <bob@example.test>
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <{id}@example.test>
"""


def hdr(mid, subject):
    return H.format(id=mid) + 'Subject: ' + subject + '\n'


# ---------------------------------------------------------------- plain and charsets

add('001-plain-ascii', """Return-Path: <alice@example.test>
Received: from mx.example.test (mx.example.test [192.0.2.1])
\tby mail.example.test with ESMTP id 1234; Mon, 6 Jan 2025 10:00:01 +0000
Received: from client (unknown [198.51.100.7])
\tby mx.example.test; Mon, 6 Jan 2025 10:00:00 +0000
""" + hdr('plain1', 'Plain ASCII message') + """MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Bob,

this is a plain ASCII message with two paragraphs.

-- 
Alice
""")

add('002-utf8-8bit-body', hdr('utf8', 'UTF-8 body') + """MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus Köln! Ça va? Пример текста. 日本語のテキスト。 Emoji: 📬
""")

add('003-latin1-body', hdr('latin1', 'Latin-1 body') + """MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

Café, crème brûlée, naïve façade, Æsir, ß.
""", enc='latin-1')

add('004-koi8r-body', hdr('koi8r', 'KOI8-R body') + """MIME-Version: 1.0
Content-Type: text/plain; charset="koi8-r"
Content-Transfer-Encoding: 8bit

Привет, мир! Это письмо в кодировке КОИ-8.
""", enc='koi8-r')

add_bytes('005-iso2022jp-body', crlf(hdr('jis', '=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=') + """MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

""") + 'こんにちは、世界。\r\n日本語のメールです。\r\n'.encode('iso2022_jp'))

add('006-windows1252-body', hdr('cp1252', 'Windows-1252 body') + """MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: 8bit

“Smart quotes” – en dash — em dash … ellipsis € euro ™
""", enc='cp1252')

add_bytes('007-unknown-charset', crlf(hdr('unkcs', 'Unknown charset') + """MIME-Version: 1.0
Content-Type: text/plain; charset=x-no-such-charset
Content-Transfer-Encoding: 8bit

""") + b'Bytes \xe4\xf6\xfc \x81\x82 in an unknown charset.\r\n')

add('008-quoted-printable', hdr('qp', 'Quoted-printable text') + """MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe! This line is long enough that it has to be wrapped with a =
soft line break in the middle.
Equals sign: =3D, tab at end=09
Trailing spaces are encoded=20
""")

add('009-base64-text', hdr('b64', 'Base64 text') + """MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

""" + b64('Base64 encoded text body.\r\nZweite Zeile: äöü.\r\n'.encode('utf-8') * 4) + '\n')

# ---------------------------------------------------------------- multipart basics

add('010-alternative-text-html', hdr('alt', 'Alternative text and HTML') + """MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-boundary-1"

This is a multi-part message in MIME format.

--alt-boundary-1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Hello in plain text.

--alt-boundary-1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><body><p>Hello in <b>HTML</b>.</p></body></html>

--alt-boundary-1--
""")

add('011-mixed-pdf-attachment', hdr('pdf', 'Invoice attached') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_Part_0_12345.67890"

------=_Part_0_12345.67890
Content-Type: text/plain; charset=us-ascii

Please find the invoice attached.

------=_Part_0_12345.67890
Content-Type: application/pdf; name="invoice.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="invoice.pdf"

""" + b64(FAKE_PDF) + """
------=_Part_0_12345.67890--
""")

add('012-mixed-image-zip', hdr('imgzip', 'Photos and archive') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XyZ123

--XyZ123
Content-Type: multipart/alternative; boundary=inner-alt

--inner-alt
Content-Type: text/plain

See attachments.
--inner-alt
Content-Type: text/html

<p>See attachments.</p>
--inner-alt--

--XyZ123
Content-Type: image/png; name=photo.png
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename=photo.png

""" + b64(FAKE_PNG) + """
--XyZ123
Content-Type: application/zip; name="archive.zip"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename="archive.zip"

""" + b64(FAKE_ZIP) + """
--XyZ123--
""")

add('013-rfc2231-filename', hdr('rfc2231', 'RFC 2231 filename') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b2231"

--b2231
Content-Type: text/plain

Attachment with an encoded name.
--b2231
Content-Type: application/octet-stream; name*=utf-8''%C3%BCbersicht%202025.bin
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename*=UTF-8'de'%C3%9Cbersicht%202025.bin

""" + b64(pattern(90, 5)) + """
--b2231--
""")

add('014-rfc2231-continuations', hdr('cont', 'RFC 2231 continuations') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="cont"

--cont
Content-Type: text/plain

Continued parameters follow.
--cont
Content-Type: application/pdf;
 name*0="a very long file name that ";
 name*1="is split over two lines.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename*0*=utf-8''%E6%97%A5%E6%9C%AC%E8%AA%9E;
 filename*1*=%E3%81%AE%E5%A0%B1%E5%91%8A;
 filename*2=".pdf"

""" + b64(FAKE_PDF[:200]) + """
--cont
Content-Type: text/plain; charset*=us-ascii'en'us-ascii; format*0=flow; format*1=ed

Mixed extended and continued parameters.
--cont--
""")

add('015-related-inline-images', hdr('related', 'Newsletter with inline images') + """MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"; type="multipart/alternative";
 start="<alt@example.test>"

--rel
Content-Type: multipart/alternative; boundary="alt"
Content-ID: <alt@example.test>

--alt
Content-Type: text/plain; charset=utf-8

Newsletter (text version).
--alt
Content-Type: text/html; charset=utf-8

<html><body><img src="cid:logo@example.test"><img src="http://example.test/banner.gif"></body></html>
--alt--

--rel
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-ID: <logo@example.test>
Content-Disposition: inline; filename="logo.png"

""" + b64(FAKE_PNG) + """
--rel
Content-Type: image/gif
Content-Transfer-Encoding: base64
Content-Location: http://example.test/banner.gif

""" + b64(FAKE_GIF) + """
--rel--
""")

# ---------------------------------------------------------------- message/rfc822

INNER = """From: Carol <carol@example.test>
To: Alice <alice@example.test>
Subject: The original message
Date: Sun, 5 Jan 2025 09:00:00 +0100
Message-ID: <inner1@example.test>

This is the forwarded message body.
It has two lines.
"""

add('016-rfc822-attached', hdr('fwd1', 'Fwd: The original message') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd"

--fwd
Content-Type: text/plain

Forwarding this.
--fwd
Content-Type: message/rfc822
Content-Disposition: attachment; filename="original.eml"

""" + INNER + """
--fwd--
""")

INNER_MP = """From: Dave <dave@example.test>
To: Carol <carol@example.test>
Subject: Inner multipart
Date: Sat, 4 Jan 2025 08:00:00 -0500
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

inner text
--inner
Content-Type: text/html

<p>inner html</p>
--inner--
"""

add('017-rfc822-nested-twice', hdr('fwd2', 'Fwd: Fwd: nested twice') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

Twice forwarded.
--outer
Content-Type: message/rfc822

From: Bob <bob@example.test>
To: Alice <alice@example.test>
Subject: Fwd: The original message
Date: Sun, 5 Jan 2025 12:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="middle"

--middle
Content-Type: text/plain

Forwarding once.
--middle
Content-Type: message/rfc822

""" + INNER + """
--middle--

--outer--
""")

add('018-rfc822-inner-multipart', hdr('fwd3', 'Fwd: Inner multipart') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="o"

--o
Content-Type: text/plain

See below.
--o
Content-Type: message/rfc822; name="inner.eml"
Content-Description: forwarded message

""" + INNER_MP + """
--o--
""")

add('019-signed-pgp', hdr('pgpsig', 'PGP/MIME signed') + """MIME-Version: 1.0
Content-Type: multipart/signed; micalg=pgp-sha256;
 protocol="application/pgp-signature"; boundary="sig"

This is an OpenPGP/MIME signed message (RFC 4880 and 3156)
--sig
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Signed text.
--sig
Content-Type: application/pgp-signature; name="signature.asc"
Content-Description: OpenPGP digital signature
Content-Disposition: attachment; filename="signature.asc"

-----BEGIN PGP SIGNATURE-----

""" + b64(pattern(120, 6), 64) + """
=AbCd
-----END PGP SIGNATURE-----

--sig--
""")

add('020-signed-smime', hdr('smime', 'S/MIME signed') + """MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature";
 micalg=sha-256; boundary="----smime"

This is an S/MIME signed message

------smime
Content-Type: text/plain; charset=us-ascii

S/MIME signed body.

------smime
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"
Content-Description: S/MIME Cryptographic Signature

""" + b64(pattern(240, 7)) + """

------smime--
""")

add('021-encrypted-pgp', hdr('pgpenc', '...') + """MIME-Version: 1.0
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"

This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)
--enc
Content-Type: application/pgp-encrypted
Content-Description: PGP/MIME version identification

Version: 1

--enc
Content-Type: application/octet-stream; name="encrypted.asc"
Content-Description: OpenPGP encrypted message
Content-Disposition: inline; filename="encrypted.asc"

-----BEGIN PGP MESSAGE-----

""" + b64(pattern(200, 8), 64) + """
-----END PGP MESSAGE-----

--enc--
""")

add('022-report-dsn', """From: Mail Delivery System <MAILER-DAEMON@mx.example.test>
To: alice@example.test
Subject: Undelivered Mail Returned to Sender
Date: Mon, 6 Jan 2025 10:05:00 +0000
Message-ID: <dsn1@mx.example.test>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="dsn-boundary"

This is a MIME-encapsulated message.

--dsn-boundary
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--dsn-boundary
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test
X-Postfix-Queue-ID: 4ABCD
Arrival-Date: Mon, 6 Jan 2025 10:04:59 +0000

Final-Recipient: rfc822; nobody@example.test
Original-Recipient: rfc822;nobody@example.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.test>: User unknown

--dsn-boundary
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Alice Example <alice@example.test>
To: nobody@example.test
Subject: Hello
Date: Mon, 6 Jan 2025 10:04:58 +0000
Message-ID: <orig@example.test>

--dsn-boundary--
""")

add('023-calendar-invite', hdr('ics', 'Invitation: Planning @ Tue 7 Jan') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="cal-mixed"

--cal-mixed
Content-Type: multipart/alternative; boundary="cal-alt"

--cal-alt
Content-Type: text/plain; charset=UTF-8

You are invited to Planning.
--cal-alt
Content-Type: text/calendar; charset=UTF-8; method=REQUEST
Content-Transfer-Encoding: 7bit

BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example//Cal//EN
METHOD:REQUEST
BEGIN:VEVENT
UID:planning-1@example.test
DTSTART:20250107T100000Z
DTEND:20250107T110000Z
SUMMARY:Planning
ORGANIZER;CN=Alice:mailto:alice@example.test
ATTENDEE;CN=Bob;RSVP=TRUE:mailto:bob@example.test
END:VEVENT
END:VCALENDAR
--cal-alt--

--cal-mixed
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

""" + b64(b'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n') + """
--cal-mixed--
""")

# ---------------------------------------------------------------- RFC 2047

add('024-rfc2047-subject-b-q', """From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.test>
To: =?ISO-8859-1?Q?Fran=E7ois_Lef=E8vre?= <francois@example.test>
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <rfc2047a@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Encoded words in headers.
""")

add('025-rfc2047-several-charsets', """From: =?KOI8-R?B?8NLJ18XU?= <ivan@example.test>
To: =?ISO-2022-JP?B?GyRCNEE7ehsoQg==?= <kanji@example.test>,
 =?windows-1252?Q?=93Quoted=94?= <q@example.test>
Cc: =?iso-8859-15?q?=A4uro?= <euro@example.test>
Subject: =?utf-8?b?8J+TrCBNYWls?= and =?iso-8859-2?Q?=BEluva?= plain
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <rfc2047b@example.test>

Several charsets.
""")

add('026-rfc2047-adjacent-words', """From: alice@example.test
To: bob@example.test
Subject: =?UTF-8?Q?Adjacent_?= =?UTF-8?Q?words_are_joined?=
 =?UTF-8?B?LCBzcGFjZSBpZ25vcmVk?=   =?UTF-8?Q?_between?= them
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <rfc2047c@example.test>
Comments: =?UTF-8?Q?split_multibyte_=C3?= =?UTF-8?Q?=BC_char?=

Adjacent encoded words.
""")

add('027-rfc2047-malformed', """From: "=?UTF-8?B?broken" <x@example.test>
To: =?UTF-8?X?unknown_encoding?= <y@example.test>
Cc: =?no-such-charset?Q?abc?= <z@example.test>
Subject: =?UTF-8?B?invalid base64 !!?= =?UTF-8?Q?unterminated word
 and=?UTF-8?Q?glued?=text =?UTF-8??empty?= =??Q?nocharset?=
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <rfc2047d@example.test>

Malformed encoded words.
""")

add('028-rfc2047-display-names', """From: "=?UTF-8?Q?M=C3=BCller=2C_Hans?=" <hans@example.test>
To: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.test>, =?UTF-8?Q?=22Quote=22_and_\\?= <q@example.test>
Cc: "Plain Name" <plain@example.test>, =?US-ASCII?Q?Keith_Moore?= <moore@example.test>
Reply-To: =?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.test>
Subject: Encoded display names
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <rfc2047e@example.test>

Display names.
""")

# ---------------------------------------------------------------- addresses

add('029-group-undisclosed', """From: alice@example.test
To: undisclosed-recipients:;
Bcc: bob@example.test
Subject: Undisclosed recipients
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <group1@example.test>

Group without members.
""")

add('030-group-named-members', """From: alice@example.test
To: Team: bob@example.test, "Carol C." <carol@example.test>;, dave@example.test
Cc: Empty Group:;, Friends: eve@example.test;
Subject: Named groups
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <group2@example.test>

Named groups with members.
""")

add('031-quoted-display-names', r"""From: "Doe, John" <john@example.test>
To: "Smith, \"Agent\" J." <agent@example.test>, "back\\slash" <bs@example.test>,
 "tab	inside" <tab@example.test>
Cc: "O'Brien (Ops)" <obrien@example.test>, "" <empty@example.test>
Subject: Quoted "display" names \ with specials
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <quoted@example.test>

Quoted display names.
""")

add('032-address-comments', """From: alice@example.test (Alice in a comment)
To: (leading comment) bob@example.test, Carol <carol(c1)@(c2)example.test> (trailing),
 dave(nested (comment) here)@example.test
Cc: "Erin" <erin @ example.test>, <@route1.test,@route2.test:frank@example.test>
Subject: Comments in addresses
Date: Mon, 6 Jan 2025 10:00:00 +0000 (UTC)
Message-ID: <comments@example.test>

Comments in addresses.
""")

add('033-missing-from-date-subject', """To: bob@example.test
Message-ID: <missing@example.test>

No From, no Date, no Subject.
""")

add('034-multiple-from', """From: alice@example.test, carol@example.test
From: second-from@example.test
Sender: secretary@example.test
Reply-To: replies@example.test, other@example.test
To: bob@example.test
Cc: cc1@example.test, cc2@example.test
Bcc: hidden@example.test
Subject: Multiple From
Subject: Second subject header
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <multi@example.test>

Multiple From headers.
""")

add('035-message-id-references', """From: bob@example.test
To: alice@example.test
Subject: Re: Re: Threading
Date: Tue, 7 Jan 2025 10:00:00 +0000
Message-ID: <reply2.20250107@example.test>
In-Reply-To: <reply1.20250106@example.test> (Alice's message of Mon)
References: <root@example.test>
 <reply1.20250106@example.test>
	<another@example.test> <ignored>

Threading headers.
""")

add('036-content-metadata', hdr('meta', 'Content metadata') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="meta"
Content-Language: en, de

--meta
Content-Type: text/plain; charset=utf-8
Content-Language: en-GB
Content-Description: The greeting
Content-ID: <greeting@example.test>
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

Hello.
--meta
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="data.bin"; size=64;
 creation-date="Mon, 6 Jan 2025 10:00:00 +0000";
 modification-date="Mon, 6 Jan 2025 10:00:00 +0000"; read-date="Mon, 6 Jan 2025 10:01:00 +0000"
Content-Description: =?UTF-8?Q?Bin=C3=A4rdaten?=
Content-Location: https://example.test/data.bin
Content-Language: x-binary

""" + b64(pattern(64, 9)) + """
--meta--
""")

add('037-reply-to-sender-cc-bcc', """From: Alice <alice@example.test>
Sender: Secretary <secretary@example.test>
Reply-To: List <list@lists.example.test>
To: Bob <bob@example.test>, carol@example.test
Cc: Dave <dave@example.test>
Bcc: Eve <eve@example.test>
Subject: All address fields
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <alladdr@example.test>
In-Reply-To: <previous@example.test>

All address fields set.
""")

add('038-address-oddities', """From: <>
To: localpart-only, @example.test, user@, "quoted local"@example.test
Cc: user@[192.0.2.1], "Name" <>, <no-closing@example.test
Reply-To:
Subject: Address oddities
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <oddities@example.test>

Odd addresses.
""")

add('039-header-folding', """From: Alice
 Example <alice@example.test>
To: bob@example.test,
	carol@example.test,
    dave@example.test
Subject: A subject that is folded
 over several
	lines
Date: Mon,
 6 Jan 2025 10:00:00 +0000
Message-ID:
 <folded@example.test>

Folded headers.
""")

add('040-empty-header-values', """From: alice@example.test
To:
Cc: 
Subject:
Date: 
Message-ID: 
In-Reply-To:

Empty header values.
""")

# ---------------------------------------------------------------- malformed multiparts

add('041-missing-boundary-param', hdr('nobound', 'Multipart without boundary') + """MIME-Version: 1.0
Content-Type: multipart/mixed

--something
Content-Type: text/plain

Part that cannot be found.
--something--
""")

add('042-boundary-never-used', hdr('unused', 'Boundary never used') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-seen"

Just text, the boundary never appears.
--other
Content-Type: text/plain

Still the preamble.
""")

add('043-no-final-boundary', hdr('nofinal', 'No final boundary') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="nf"

--nf
Content-Type: text/plain

First part.
--nf
Content-Type: text/plain

Second part, message ends without a closing delimiter.
""")

add('044-wrong-boundary-in-body', hdr('wrongb', 'Wrong boundary in body') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="declared"

--declared
Content-Type: text/plain

First part.
--undeclared
Content-Type: text/plain

This looks like a part but is not.
--declared--
""")

add('045-boundary-prefix-collision', hdr('prefix', 'Boundary prefix collision') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: multipart/alternative; boundary="bb"

--bb
Content-Type: text/plain

inner one
--bbx
not a boundary of either (prefix of bb plus x)
--bb
Content-Type: text/html

<p>inner two</p>
--bb--
--b
Content-Type: text/plain

outer two
--b--
""")

add('046-nested-same-boundary', hdr('samebound', 'Nested multipart with same boundary') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="same"

--same
Content-Type: multipart/alternative; boundary="same"

--same
Content-Type: text/plain

which level am I?
--same
Content-Type: text/html

<p>and me?</p>
--same--
--same
Content-Type: text/plain

last
--same--
""")

add('047-missing-blank-line', """From: alice@example.test
To: bob@example.test
Subject: No blank line after headers
Date: Mon, 6 Jan 2025 10:00:00 +0000
This line has no colon so the header ends here
and the body continues.
""")

add('048-header-only', """From: alice@example.test
To: bob@example.test
Subject: Header only, no blank line, no body
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <headeronly@example.test>
""")

add('049-empty-body', """From: alice@example.test
To: bob@example.test
Subject: Empty body
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <emptybody@example.test>
MIME-Version: 1.0
Content-Type: text/plain

""")

add('050-8bit-utf8-headers', """From: Jürgen Müller <juergen@example.test>
To: "Zoë" <zoe@example.test>, 山田 <yamada@example.test>
Subject: Grüße — raw UTF-8 in the header
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <8bitutf8@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8; name="résumé.txt"
Content-Transfer-Encoding: 8bit

Raw UTF-8 in headers.
""")

add('051-8bit-latin1-headers', """From: Jürgen Müller <juergen@example.test>
To: "Zoë" <zoe@example.test>
Subject: Grüße in raw Latin-1
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <8bitlatin1@example.test>
Content-Type: text/plain; charset=iso-8859-1

Raw Latin-1 in headers: façade.
""", enc='latin-1')

add('052-bare-lf', hdr('barelf', 'Bare LF line ends') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="lf"

--lf
Content-Type: text/plain

Every line ends in a bare LF.
Second line.
--lf
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

""" + b64(b'bare LF part\n') + """
--lf--
""", lf=True)

add_bytes('053-mixed-crlf-lf', (hdr('mixed', 'Mixed CRLF and LF').replace('\n', '\r\n') + """MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=mx\r\n\r
--mx\n\
Content-Type: text/plain\r\n\n\
CRLF line\r\n\
LF line\n\
CR alone\rin the middle\r\n\
--mx\r\n\
Content-Type: text/html\n\r\n\
<p>html</p>\n\
--mx--\r\n""").encode('ascii'))

# ---------------------------------------------------------------- content-type oddities

add('054-nul-in-body', hdr('nul', 'NUL byte in body') + """MIME-Version: 1.0
Content-Type: text/plain

Before NUL\x00after NUL.
Line two \x00\x00 two NULs.
""")

add('055-invalid-base64', hdr('badb64', 'Invalid base64') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="bad"

--bad
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8gd29ybGQ!!!*** not base64 at all ===
SGVsbG8=SGVsbG8=
--bad
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

QUJD
RE
--bad--
""")

add('056-content-type-no-subtype', hdr('nosub', 'Content-Type without subtype') + """MIME-Version: 1.0
Content-Type: text; charset=utf-8

No subtype.
""")

add('057-weird-case-types', hdr('case', 'Weird-cased types') + """MIME-Version: 1.0
CONTENT-TYPE: MultiPart/MIXED; BOUNDARY="CaseB"

--CaseB
content-type: TEXT/Plain; CharSet=UTF-8
content-transfer-encoding: QUOTED-Printable

caf=C3=A9
--CaseB
Content-type: Image/JPEG; NAME="UPPER.JPG"
Content-Transfer-Encoding: Base64
CONTENT-DISPOSITION: ATTACHMENT; FILENAME="UPPER.JPG"

""" + b64(pattern(60, 10)) + """
--CaseB
Content-Type: Message/RFC822

From: x@example.test
Subject: cased inner

inner
--CaseB--
""")

add('058-duplicate-content-type', hdr('dupct', 'Duplicate Content-Type') + """MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Type: multipart/mixed; boundary="dup"
Content-Transfer-Encoding: 7bit
Content-Transfer-Encoding: base64

--dup
Content-Type: text/plain

Which Content-Type wins?
--dup--
""")

add('059-params-quoting', hdr('params', 'Parameters with and without quotes') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=unquoted-b; foo="quoted value"; bar=tok; EMPTY=""

--unquoted-b
Content-Type: text/plain; charset="utf-8"; format=flowed; delsp=yes
Content-Disposition: inline; filename=plain.txt

quoted and unquoted
--unquoted-b
Content-Type: application/x-thing; name="with \\"escaped\\" quotes and \\\\ backslash"; x=a b c
Content-Disposition: attachment; filename = "spaces around equals.dat" ; size = 10

x
--unquoted-b
Content-Type: text/plain; charset=us-ascii (a comment); format=fixed(another)

comments in params
--unquoted-b--
""")

add('060-semicolon-in-quotes', hdr('semi', 'Semicolons inside quotes') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="semi;colon=x"

--semi;colon=x
Content-Type: application/octet-stream; name="a;b=c;d.bin"
Content-Disposition: attachment; filename="a;b=c;d.bin"; note="x;y"

payload
--semi;colon=x--
""")

add('061-trailing-garbage', hdr('garbage', 'Trailing garbage') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="tg"

--tg
Content-Type: text/plain

only part
--tg--
epilogue text after the final boundary
--tg
Content-Type: text/plain

a part after the end
--tg--
garbage \x7f\x01 bytes
""")

add('062-preamble-epilogue', hdr('preepi', 'Preamble and epilogue') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="pe"

Preamble line one.
Preamble line two.

--pe
Content-Type: text/plain

body
--pe--

Epilogue line one.
Epilogue line two.
""")

add('063-empty-multipart', hdr('emptymp', 'Multipart with no parts') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="empty"

--empty--
""")

add('064-multipart-digest', hdr('digest', 'Digest') + """MIME-Version: 1.0
Content-Type: multipart/digest; boundary="dig"

--dig

From: one@example.test
Subject: Digest item one

first item
--dig

From: two@example.test
Subject: Digest item two

second item
--dig
Content-Type: text/plain

explicit text in a digest
--dig--
""")

add('065-message-global', hdr('global', 'message/global attached') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="glob"

--glob
Content-Type: text/plain

message/global follows
--glob
Content-Type: message/global

From: Jürgen <j@example.test>
Subject: Grüße

UTF-8 inside message/global
--glob--
""")

add('066-rfc822-base64-encoded', hdr('rfc822b64', 'Encoded message/rfc822') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="e"

--e
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

""" + b64(INNER.replace('\n', '\r\n').encode('ascii')) + """
--e--
""")

add('067-unknown-cte', hdr('xcte', 'Unknown Content-Transfer-Encoding') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="u"

--u
Content-Type: text/plain
Content-Transfer-Encoding: x-uuencode

begin 644 a.txt
#86)C
`
end
--u
Content-Type: text/plain
Content-Transfer-Encoding: something-else

unknown encoding
--u--
""")

add('068-binary-cte', hdr('binary', 'Binary transfer encoding') + """MIME-Version: 1.0
Content-Type: application/octet-stream
Content-Transfer-Encoding: binary

""" + 'raw bytes: \x01\x02\x03 é\n', enc='latin-1')

add('069-cte-case-and-comments', hdr('ctecase', 'CTE case and comments') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="c"

--c
Content-Type: text/plain
Content-Transfer-Encoding: BASE64 (comment)

aGVsbG8K
--c
Content-Type: text/plain
Content-Transfer-Encoding: "quoted-printable"

a=3Db
--c
Content-Type: text/plain
Content-Transfer-Encoding: 8BIT

eight
--c--
""")

add('070-no-trailing-newline', hdr('nonl', 'No newline at end').rstrip('\n') + """
Content-Type: text/plain

The last line has no line end.""")

add('071-whitespace-before-colon', """From : alice@example.test
To:bob@example.test
Subject	: Whitespace before colon
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <wsb@example.test>
Content-Type : text/plain

Whitespace before the colon.
""")

add('072-leading-continuation', """ continuation line before any header
From: alice@example.test
To: bob@example.test
Subject: Leading continuation line
Date: Mon, 6 Jan 2025 10:00:00 +0000

Message starts with a folded line.
""")

add('073-long-body-line', hdr('longline', 'Long body line') + """MIME-Version: 1.0
Content-Type: text/plain

""" + ('0123456789' * 1000) + '\nshort line\n')

add('074-top-level-octet-stream', hdr('octet', 'Top-level attachment') + """MIME-Version: 1.0
Content-Type: application/octet-stream; name="blob.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="blob.bin"

""" + b64(pattern(150, 11)) + '\n')

add('075-message-partial-external', hdr('partial', 'message/partial and external-body') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="px"

--px
Content-Type: message/partial; id="abc@example.test"; number=1; total=2

From: frag@example.test
Subject: fragment

fragment one
--px
Content-Type: message/external-body; access-type=URL;
 URL="http://example.test/big.bin"

Content-Type: application/octet-stream
Content-ID: <ext@example.test>

--px--
""")

add('076-boundary-case-and-padding', hdr('bpad', 'Boundary case and transport padding') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="CaSe"

--case
not a boundary: case differs
--CaSe   \t
Content-Type: text/plain

after padded boundary
--CaSe--   
""")

add('077-boundary-special-chars', hdr('bspecial', 'Boundary with specials') + """MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="=_Part:0?x'(y)+,-./=:? end"

--=_Part:0?x'(y)+,-./=:? end
Content-Type: text/plain

specials
--=_Part:0?x'(y)+,-./=:? end--
""")

add('078-base64-odd-lines', hdr('b64odd', 'Base64 with odd line lengths and whitespace') + """MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVs bG8g
d29y
  bGQh
IFRoaXMgaXMgYmFzZTY0IHdpdGggd2hpdGVzcGFjZS4K
""")

add('079-qp-invalid', hdr('qpbad', 'Invalid quoted-printable') + """MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Lowercase hex =c3=a9, invalid =ZZ, lone = at end of word= 
Trailing spaces   
Soft break at end=""")

add('080-rfc822-empty-inner', hdr('emptyinner', 'Empty message/rfc822') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="ei"

--ei
Content-Type: message/rfc822

--ei
Content-Type: message/rfc822

Subject: headers only inner
--ei--
""")

add('081-message-id-malformed', """From: alice@example.test
To: bob@example.test
Subject: Malformed message ids
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: no-angle-brackets@example.test
In-Reply-To: <a@example.test> <b@example.test>
References: garbage <ok@example.test> more garbage

Malformed ids.
""")

add('082-dates', """From: alice@example.test
To: bob@example.test
Subject: Odd date
Date: 6 Jan 25 10:00 EST
Message-ID: <date@example.test>

Two-digit year, no weekday, zone name.
""")

add('083-many-parts', hdr('many', 'Fifty parts') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="many"

""" + ''.join('--many\nContent-Type: text/plain; name="part%02d.txt"\n\npart %d\n' % (i, i) for i in range(1, 51))
    + '--many--\n')

add('084-subject-quoting', r"""From: "Name with \"quotes\" and \\" <n@example.test>
To: bob@example.test
Subject: quote " backslash \ percent % star * brace { paren ( ) tab	end
Date: Mon, 6 Jan 2025 10:00:00 +0000
Message-ID: <"quoted.local"@example.test>

Subject needs quoting or a literal in ENVELOPE.
""")

add('085-mime-version-missing', """From: alice@example.test
To: bob@example.test
Subject: Multipart without MIME-Version
Date: Mon, 6 Jan 2025 10:00:00 +0000
Content-Type: multipart/mixed; boundary="nomv"

--nomv
Content-Type: text/plain

Is it parsed as multipart?
--nomv--
""")

add('086-text-html-only', hdr('html', 'HTML only') + """MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<!DOCTYPE html>
<html><head><title>t</title></head><body><p>Caf=C3=A9</p></body></html>
""")

add('087-multipart-attachment-disposition', hdr('mpdisp', 'Disposition on multipart and rfc822') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="d1"
Content-Disposition: inline
Content-Language: fr

--d1
Content-Type: multipart/alternative; boundary="d2"
Content-Disposition: attachment; filename="nested.txt"
Content-Description: a described multipart
Content-Location: nested
Content-ID: <mp@example.test>

--d2
Content-Type: text/plain

t
--d2--
--d1
Content-Type: message/rfc822
Content-Disposition: inline; filename="msg.eml"
Content-Language: de
Content-Location: msg.eml
Content-MD5: AAAAAAAAAAAAAAAAAAAAAA==

From: inner@example.test
Subject: inner with disposition

inner
--d1--
""")

add('088-header-without-value-colon', """From: alice@example.test
To: bob@example.test
Subject: Odd header lines
X-No-Space:value
X-Empty:
:no-name
Date: Mon, 6 Jan 2025 10:00:00 +0000

Headers with odd syntax.
""")


# ---------------------------------------------------------------- generated big ones

def long_header():
    recipients = ', '.join('"Recipient %04d" <r%04d@example.test>' % (i, i) for i in range(300))
    subject = 'Long ' + ' '.join('word%04d' % i for i in range(1200))
    return hdr('longhdr', subject) + 'To: ' + recipients + '\nX-Long: ' + 'x' * 10240 + """
Content-Type: text/plain

Very long header lines (10 KB and more, unfolded).
"""


add('089-long-header-lines', long_header())


def huge_header_block():
    lines = []
    for i in range(1250):
        lines.append('Received: from relay%04d.example.test (relay%04d.example.test [192.0.2.%d])\n'
                     '\tby relay%04d.example.test with ESMTP id %08X; Mon, 6 Jan 2025 10:00:00 +0000\n'
                     % (i, i, i % 256, i + 1, i * 7919))
    return ''.join(lines) + hdr('hugehdr', 'Huge header block') + 'Content-Type: text/plain\n\nAfter 200 KB of headers.\n'


add('090-huge-header-block', huge_header_block())


def deep_multipart(levels):
    head = hdr('deepmp', 'Deep multipart nesting (%d levels)' % levels) + 'MIME-Version: 1.0\n'
    parts = []
    for i in range(levels):
        parts.append('Content-Type: multipart/mixed; boundary="level%03d"\n\n--level%03d\n' % (i, i))
    inner = 'Content-Type: text/plain\n\ninnermost text at depth %d\n' % levels
    tail = ''.join('--level%03d--\n' % i for i in reversed(range(levels)))
    return head + ''.join(parts) + inner + tail


add('091-deep-multipart', deep_multipart(120))


def deep_rfc822(levels):
    out = hdr('deep822', 'Deep message/rfc822 nesting (%d levels)' % levels) + 'MIME-Version: 1.0\n'
    for i in range(levels):
        out += 'Content-Type: message/rfc822\n\nFrom: level%03d@example.test\nSubject: level %d\n' % (i, i + 1)
    return out + 'Content-Type: text/plain\n\ninnermost message at depth %d\n' % levels


add('092-deep-rfc822', deep_rfc822(120))


def mixed_deep(levels):
    """Alternating multipart and message/rfc822, each multipart with a sibling text part."""
    out = hdr('deepmix', 'Alternating multipart and message/rfc822') + 'MIME-Version: 1.0\n'
    tail = ''
    for i in range(levels):
        out += ('Content-Type: multipart/mixed; boundary="m%02d"\n\n--m%02d\nContent-Type: text/plain\n\n'
                'sibling %d\n--m%02d\nContent-Type: message/rfc822\n\nSubject: inner %d\n' % (i, i, i, i, i))
        tail = '--m%02d--\n' % i + tail
    return out + 'Content-Type: text/plain\n\nbottom\n' + tail


add('093-deep-mixed', mixed_deep(20))

add('094-bare-lf-rfc822', hdr('lf822', 'Bare LF with message/rfc822') + """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="l"

--l
Content-Type: message/rfc822

""" + INNER + """--l--
""", lf=True)


def main():
    out = OUT
    if '--out' in sys.argv:
        out = sys.argv[sys.argv.index('--out') + 1]
    os.makedirs(out, exist_ok=True)
    names = set()
    for name, data in CASES:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(out, name + '.eml'), 'wb') as f:
            f.write(data)
    total = sum(len(d) for _, d in CASES)
    print('wrote %d messages, %d bytes, to %s' % (len(CASES), total, out))


if __name__ == '__main__':
    main()
