import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { prettyLine } from './pretty.js';

const at = new Date(2026, 10, 29, 7, 5, 9, 42).toISOString(); // local 07:05:09.042

const cases: { name: string; json: object | string; want: string }[] = [
  {
    name: 'login line: listener and session placed, fields as key=value',
    json: { level: 'info', time: at, listener: 'imap', session: 'Ab3dEf_1', user: 'alice@example.test', protocol: 'imap', client: '127.0.0.1', device: null, msg: 'login' },
    want: '07:05:09.042 INFO  imap Ab3dEf_1    login user=alice@example.test protocol=imap client=127.0.0.1 device=null\n',
  },
  {
    name: 'component, a value with spaces quoted, numbers bare',
    json: { level: 'warn', time: at, component: 'queue', queueId: 'x.1', to: 'b@remote.test', size: 120, detail: '451 try later', msg: 'delivery' },
    want: '07:05:09.042 WARN  queue            delivery queueId=x.1 to=b@remote.test size=120 detail="451 try later"\n',
  },
  {
    name: 'error: its message; newlines never split the line',
    json: { level: 'error', time: at, err: { message: 'boom\nsecond', stack: 'Error: boom\n at x' }, msg: 'failed' },
    want: '07:05:09.042 ERROR failed err=boom\\nsecond\n',
  },
  {
    name: 'an object field: compact JSON',
    json: { level: 'info', time: at, listeners: { imap: '127.0.0.1:1143' }, msg: 'ready' },
    want: '07:05:09.042 INFO  ready listeners={"imap":"127.0.0.1:1143"}\n',
  },
  { name: 'not JSON passes through', json: 'plain text', want: 'plain text\n' },
];

for (const c of cases) {
  test(`prettyLine: ${c.name}`, () => {
    assert.equal(prettyLine(typeof c.json === 'string' ? c.json : JSON.stringify(c.json)), c.want);
  });
}

test('prettyLine: any field values give exactly one line', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (fields, msg) => {
      const out = prettyLine(JSON.stringify({ ...fields, level: 'info', time: at, msg }));
      assert.equal(out.indexOf('\n'), out.length - 1);
    }),
  );
});
