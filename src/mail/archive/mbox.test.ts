// The mbox codec: any message (ending in a line feed) with any flags comes back byte for
// byte, whatever "From " and ">From " lines, CR LF or bare LF it holds; flags written by
// other programs further down the header are read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeMessage, flagHeaders, fromLine, parseFromLine, parseMbox } from './mbox.js';
import { flagsOfName } from './maildir.js';

const line = fc.oneof(
  fc.constantFrom('From here', '>From there', '>>From x', 'From', 'Status: RO', 'X-Keywords: a', '', ' From'),
  fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '')),
);
const message = fc.tuple(fc.array(line, { minLength: 1, maxLength: 12 }), fc.constantFrom('\n', '\r\n')).map(([lines, eol]) => `Subject: t${eol}${lines.join(eol)}${eol}`);
const flags = fc.subarray(['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted', '$Work', '$Forwarded', 'Later']);

describe('mbox codec', () => {
  it('round trip: bytes, flags and date (to the second) of every message', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(message, flags, fc.integer({ min: 0, max: 4_000_000_000 })), { minLength: 1, maxLength: 5 }), (msgs) => {
        const file = Buffer.concat(msgs.map(([raw, f, secs]) => encodeMessage({ raw: Buffer.from(raw, 'latin1'), flags: f, internalDate: new Date(secs * 1000) })));
        const back = parseMbox(file);
        assert.equal(back.length, msgs.length);
        for (const [i, [raw, f, secs]] of msgs.entries()) {
          assert.equal(back[i].raw.toString('latin1'), raw);
          assert.deepEqual([...back[i].flags].sort(), [...f].sort());
          assert.equal(back[i].internalDate.getTime(), secs * 1000);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('From line and flag headers as mutt writes them', () => {
    assert.equal(fromLine(new Date(Date.UTC(2026, 10, 8, 9, 5, 3))), 'From MAILER-DAEMON Sun Nov  8 09:05:03 2026\n');
    assert.equal(parseFromLine('From bob@example.test Sun Nov  8 09:05:03 2026')?.toISOString(), '2026-11-08T09:05:03.000Z');
    assert.equal(flagHeaders(['\\Seen', '\\Flagged', '$Work', 'Later'], '\n'), 'Status: RO\nX-Status: F\nX-Keywords: $Work, Later\n');
  });

  it('reads flags from Status/X-Status headers at the end of the header (python, Thunderbird) and keeps them in the message', () => {
    const file = Buffer.from('From a@b Sat Jan  1 00:00:00 2000\nSubject: x\nStatus: RO\nX-Status: A\n\nbody\n\n');
    const [m] = parseMbox(file);
    assert.deepEqual(m.flags, ['\\Seen', '\\Answered']);
    assert.equal(m.raw.toString(), 'Subject: x\nStatus: RO\nX-Status: A\n\nbody\n');
    assert.throws(() => parseMbox(Buffer.from('Subject: not mbox\n')), /not an mbox file/);
  });

  it('maildir names: system letters and keyword letters', () => {
    assert.deepEqual(flagsOfName('123.M1U2.mailroom,S=10:2,DFPRSTab', ['$Work', 'Later']), ['\\Draft', '\\Flagged', '$Forwarded', '\\Answered', '\\Seen', '\\Deleted', '$Work', 'Later']);
    assert.deepEqual(flagsOfName('123.M1U2.mailroom', []), []);
  });
});
