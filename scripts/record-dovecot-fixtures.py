#!/usr/bin/env python3
"""Record Dovecot's IMAP answers for every corpus message (called by record-dovecot-fixtures.sh).

APPENDs each test/fixtures/mime/corpus/*.eml with a literal of its exact bytes, then
FETCHes one item per command (so every answer is attributable) and writes
test/fixtures/mime/dovecot/<name>.json:

  { "file", "size", "fetch": {ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE: raw wire text},
    "sections": { ITEM: base64 bytes | null (NIL) | {"error": tagged NO/BAD text} } }

Raw wire text is decoded as UTF-8; when Dovecot sent bytes that are not UTF-8 the text is
decoded as Latin-1 instead and the item is listed in the optional "latin1" array, so the
exact bytes can always be recovered.

Usage: record-dovecot-fixtures.py HOST PORT USER PASSWORD CORPUS_DIR OUT_DIR
"""
import base64
import json
import os
import re
import socket
import sys

TOP_SECTIONS = [
    'BODY[]',
    'BODY[HEADER]',
    'BODY[TEXT]',
    'BODY[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)]',
    'BODY[HEADER.FIELDS.NOT (RECEIVED)]',
]
FETCH_ITEMS = ['ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822.SIZE']
# Dovecot appends command timing to tagged replies; it varies run to run, so it is cut.
TIMING = re.compile(rb' \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)')
# ... and a timestamp to "internal error" texts (BYE or NO [SERVERBUG]).
STAMP = re.compile(rb' \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]')
LITERAL_AT_END = re.compile(rb'~?\{(\d+)\+?\}\r\n$')


class ImapError(Exception):
    pass


class Disconnected(ImapError):
    """The server closed the connection mid-command (Dovecot does so on some broken bodies)."""

    def __init__(self, untagged):
        super().__init__('connection closed')
        self.untagged = untagged


class Conn:
    """A minimal IMAP client that keeps every response byte exact."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=60)
        self.buf = b''
        self.n = 0
        self.untagged = []

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise Disconnected(self.untagged)
        self.buf += chunk

    def _line(self):
        while b'\r\n' not in self.buf:
            self._fill()
        i = self.buf.index(b'\r\n') + 2
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """One response: a line plus any literals it announces, up to its final CRLF."""
        out = self._line()
        while True:
            m = LITERAL_AT_END.search(out)
            if not m:
                return out
            out += self._exact(int(m.group(1)))
            out += self._line()

    def command(self, text, literal=None, literal8=False):
        """Send a command (optionally ending in one synchronising literal); return (untagged, tagged)."""
        self.n += 1
        tag = b'R%d' % self.n
        untagged = self.untagged = []
        if literal is None:
            self.sock.sendall(tag + b' ' + text + b'\r\n')
        else:
            prefix = b'~' if literal8 else b''
            self.sock.sendall(tag + b' ' + text + b' ' + prefix + b'{%d}\r\n' % len(literal))
            while True:
                r = self.response()
                if r.startswith(b'+'):
                    break
                if r.startswith(tag + b' '):
                    return untagged, r
                untagged.append(r)
            self.sock.sendall(literal + b'\r\n')
        while True:
            r = self.response()
            if r.startswith(tag + b' '):
                return untagged, r
            untagged.append(r)


def tagged_text(tagged):
    """'NO [X] text.' without the tag, the CRLF and Dovecot's timing."""
    text = tagged.split(b' ', 1)[1].rstrip(b'\r\n')
    return STAMP.sub(b'', TIMING.sub(b'', text)).decode('utf-8', 'replace')


def is_ok(tagged):
    return tagged.split(b' ', 2)[1] == b'OK'


# ---------------------------------------------------------------- wire value parsing

def literal_at(data, i):
    """If data[i:] starts a literal ({n} or ~{n}), return (content_start, content_end)."""
    m = re.compile(rb'~?\{(\d+)\+?\}\r\n').match(data, i)
    if not m:
        return None
    start = m.end()
    return start, start + int(m.group(1))


def skip_value(data, i):
    """End index of the value (list, quoted, literal or atom) starting at i."""
    c = data[i:i + 1]
    if c == b'(':
        depth = 0
        while True:
            c = data[i:i + 1]
            if c == b'':
                raise ImapError('unterminated list')
            if c == b'(':
                depth += 1
                i += 1
            elif c == b')':
                depth -= 1
                i += 1
                if depth == 0:
                    return i
            elif c == b'"':
                i = skip_quoted(data, i)
            elif c in (b'{', b'~') and literal_at(data, i):
                i = literal_at(data, i)[1]
            else:
                i += 1
    if c == b'"':
        return skip_quoted(data, i)
    lit = literal_at(data, i)
    if lit:
        return lit[1]
    j = i
    while j < len(data) and data[j:j + 1] not in (b' ', b')', b'(', b'\r'):
        j += 1
    return j


def skip_quoted(data, i):
    i += 1
    while True:
        c = data[i:i + 1]
        if c == b'':
            raise ImapError('unterminated quoted string')
        if c == b'\\':
            i += 2
        elif c == b'"':
            return i + 1
        else:
            i += 1


def parse_value(data, i):
    """Parse a value into Python: list, bytes (string), None (NIL) or ('atom', bytes)."""
    c = data[i:i + 1]
    if c == b'(':
        items = []
        i += 1
        while True:
            while data[i:i + 1] == b' ':
                i += 1
            if data[i:i + 1] == b')':
                return items, i + 1
            v, i = parse_value(data, i)
            items.append(v)
    if c == b'"':
        end = skip_quoted(data, i)
        return re.sub(rb'\\(.)', rb'\1', data[i + 1:end - 1]), end
    lit = literal_at(data, i)
    if lit:
        return data[lit[0]:lit[1]], lit[1]
    end = skip_value(data, i)
    atom = data[i:end]
    return (None if atom.upper() == b'NIL' else ('atom', atom)), end


def fetch_items(resp):
    """Map item name -> (raw value bytes) for one '* n FETCH (...)' response."""
    m = re.match(rb'\* \d+ FETCH \(', resp)
    if not m:
        return None
    i = m.end()
    items = {}
    while resp[i:i + 1] not in (b')', b''):
        j = i
        while resp[j:j + 1] not in (b' ', b'['):
            j += 1
        if resp[j:j + 1] == b'[':
            j = resp.index(b']', j) + 1
            if resp[j:j + 1] == b'<':
                j = resp.index(b'>', j) + 1
        name = resp[i:j].decode('ascii')
        i = j + 1  # the space
        end = skip_value(resp, i)
        items[name] = resp[i:end]
        i = end
        while resp[i:i + 1] == b' ':
            i += 1
    return items


# ---------------------------------------------------------------- structure walking

def atom_upper(v):
    if isinstance(v, bytes):
        return v.upper()
    if isinstance(v, tuple):
        return v[1].upper()
    return None


def is_message(part):
    """A message/rfc822 body part as Dovecot writes it: envelope and body follow the basic fields."""
    return (not isinstance(part[0], list) and atom_upper(part[0]) == b'MESSAGE'
            and atom_upper(part[1]) == b'RFC822' and len(part) >= 10
            and isinstance(part[7], list) and isinstance(part[8], list))


def walk(body):
    """Yield (section, kind) for every part number in a BODYSTRUCTURE; kind is multipart/message/leaf."""
    out = []

    def visit(part, section):
        if isinstance(part[0], list):
            out.append((section, 'multipart'))
            children(part, section)
        elif is_message(part):
            out.append((section, 'message'))
            inner = part[8]
            if isinstance(inner[0], list):
                children(inner, section)
            else:
                visit(inner, section + '.1')
        else:
            out.append((section, 'leaf'))

    def children(mp, section):
        n = 0
        for child in mp:
            if not isinstance(child, list):
                break
            n += 1
            visit(child, '%s.%d' % (section, n) if section else str(n))

    if isinstance(body[0], list):
        children(body, '')
    else:
        visit(body, '1')
    return out


def section_items(parts):
    items = []
    for section, kind in parts:
        items += ['BODY[%s]' % section, 'BODY[%s.MIME]' % section]
        if kind == 'message':
            items += ['BODY[%s.HEADER]' % section, 'BODY[%s.TEXT]' % section]
        if kind == 'leaf':
            items += ['BINARY[%s]' % section, 'BINARY.SIZE[%s]' % section]
    return items


# ---------------------------------------------------------------- recording

def wire_text(raw, name, latin1):
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        latin1.append(name)
        return raw.decode('latin-1')


class Session:
    """A logged-in connection with INBOX selected, reopened when the server drops it."""

    def __init__(self, host, port, user, password):
        self.args = (host, port, user, password)
        self.conn = None
        self.open()

    def open(self):
        host, port, user, password = self.args
        self.conn = Conn(host, port)
        self.conn.response()  # greeting
        _, tagged = self.conn.command(b'LOGIN %s %s' % (user.encode(), password.encode()))
        if not is_ok(tagged):
            raise ImapError('LOGIN failed: %r' % tagged)
        _, tagged = self.conn.command(b'SELECT INBOX')
        if not is_ok(tagged):
            raise ImapError('SELECT failed: %r' % tagged)

    def command(self, *args, **kwargs):
        return self.conn.command(*args, **kwargs)


def fetch_one(session, uid, item):
    """FETCH one item; return its raw value bytes, or {'error': text} when refused."""
    request = item.replace('BODY[', 'BODY.PEEK[', 1).replace('BINARY[', 'BINARY.PEEK[', 1)
    try:
        untagged, tagged = session.command(b'UID FETCH %d (%s)' % (uid, request.encode('ascii')))
    except Disconnected as e:
        bye = [r for r in e.untagged if r.startswith(b'* BYE')]
        session.open()
        text = STAMP.sub(b'', bye[0][2:].rstrip(b'\r\n')).decode('utf-8', 'replace') if bye else 'connection closed'
        return {'error': text + ' (no tagged response: the server disconnected)'}
    if not is_ok(tagged):
        return {'error': tagged_text(tagged)}
    found = None
    for r in untagged:
        items = fetch_items(r)
        if not items:
            continue
        for name, value in items.items():
            if name not in ('UID', 'FLAGS', 'MODSEQ'):
                found = value
    if found is None:
        raise ImapError('no %s in the answer for uid %d: %r' % (item, uid, untagged))
    return found


def section_value(raw):
    if isinstance(raw, dict):
        return raw
    value, _ = parse_value(raw, 0)
    if value is None:
        return None
    if isinstance(value, tuple):  # BINARY.SIZE is a number
        value = value[1]
    return base64.b64encode(value).decode('ascii')


def append(conn, data):
    """APPEND with a literal of the exact bytes; literal8 if Dovecot refuses the plain literal."""
    _, tagged = conn.command(b'APPEND INBOX', literal=data)
    if not is_ok(tagged):
        _, tagged = conn.command(b'APPEND INBOX', literal=data, literal8=True)
    if not is_ok(tagged):
        raise ImapError('APPEND refused: %r' % tagged)
    m = re.search(rb'\[APPENDUID \d+ (\d+)\]', tagged)
    if not m:
        raise ImapError('no APPENDUID: %r' % tagged)
    return int(m.group(1))


def record(conn, uid, name, data):
    latin1 = []
    fetch = {}
    for item in FETCH_ITEMS:
        raw = fetch_one(conn, uid, item)
        if isinstance(raw, dict):
            raise ImapError('%s refused for %s: %s' % (item, name, raw['error']))
        fetch[item] = wire_text(raw, item, latin1)
    structure, _ = parse_value(fetch['BODYSTRUCTURE'].encode('latin-1' if 'BODYSTRUCTURE' in latin1 else 'utf-8'), 0)
    sections = {}
    for item in TOP_SECTIONS + section_items(walk(structure)):
        sections[item] = section_value(fetch_one(conn, uid, item))
    out = {'file': name, 'size': len(data), 'fetch': fetch, 'sections': sections}
    if latin1:
        out['latin1'] = latin1
    return out


def main():
    host, port, user, password, corpus, out_dir = sys.argv[1:7]
    conn = Session(host, int(port), user, password)
    os.makedirs(out_dir, exist_ok=True)
    names = sorted(f for f in os.listdir(corpus) if f.endswith('.eml'))
    for name in names:
        with open(os.path.join(corpus, name), 'rb') as f:
            data = f.read()
        uid = append(conn, data)
        result = record(conn, uid, name, data)
        with open(os.path.join(out_dir, name[:-4] + '.json'), 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=1, ensure_ascii=False)
            f.write('\n')
        print('%s: %d sections' % (name, len(result['sections'])), flush=True)
    conn.command(b'LOGOUT')


if __name__ == '__main__':
    main()
