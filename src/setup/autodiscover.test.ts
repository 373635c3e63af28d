// The Autodiscover request parser reads network input: table-driven cases and properties.
// (Control characters other than tab and newline are not legal XML 1.0 text, and CR is normalised.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AutodiscoverRequestError, OUTLOOK_RESPONSE_SCHEMA, parseAutodiscoverRequest } from './autodiscover.js';
import { escapeXml } from './xml.js';

const wrap = (inner: string) => `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request>${inner}</Request></Autodiscover>`;
const schema = `<AcceptableResponseSchema>${OUTLOOK_RESPONSE_SCHEMA}</AcceptableResponseSchema>`;

describe('parseAutodiscoverRequest', () => {
  const good: [string, string, string][] = [
    ['as Outlook sends it', wrap(`<EMailAddress>alice@example.org</EMailAddress>${schema}`), 'alice@example.org'],
    ['without a schema', wrap('<EMailAddress>alice@example.org</EMailAddress>'), 'alice@example.org'],
    ['with a namespace prefix', `<a:Autodiscover xmlns:a="x"><a:Request><a:EMailAddress> bob@example.org </a:EMailAddress></a:Request></a:Autodiscover>`, 'bob@example.org'],
    ['an escaped character', wrap('<EMailAddress>o&amp;neil@example.org</EMailAddress>'), 'o&neil@example.org'],
    ['an unknown entity stays text (then no address: 400)', wrap('<EMailAddress>&xxe;</EMailAddress>'), '&xxe;'],
  ];
  for (const [name, body, email] of good) it(`reads: ${name}`, () => assert.equal(parseAutodiscoverRequest(body), email));

  const bad: [string, string, RegExp][] = [
    ['empty', '', /well-formed|expected/],
    ['not XML', 'EMailAddress=alice@example.org', /well-formed|expected/],
    ['unclosed', '<Autodiscover><Request><EMailAddress>a@b.c</EMailAddress>', /well-formed/],
    ['other root', '<Envelope><Request><EMailAddress>a@b.c</EMailAddress></Request></Envelope>', /expected <Autodiscover>/],
    ['no address', wrap(schema), /no EMailAddress/],
    ['blank address', wrap('<EMailAddress>  </EMailAddress>'), /no EMailAddress/],
    ['ActiveSync schema', wrap('<EMailAddress>a@b.c</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema>'), /only the response schema/],
    ['a DOCTYPE (entities of the sender)', `<!DOCTYPE a [<!ENTITY e "alice@example.org">]>${wrap('<EMailAddress>&e;</EMailAddress>')}`, /DOCTYPE/],
    ['an unclosed CDATA after the document', '<EMailAddress></EMailAddress><![CDATA[<Autodiscover>', /well-formed/],
  ];
  for (const [name, body, message] of bad) it(`refuses: ${name}`, () => assert.throws(() => parseAutodiscoverRequest(body), (e) => e instanceof AutodiscoverRequestError && message.test(e.message)));

  it('property: any input gives an address or an AutodiscoverRequestError, nothing else', () => {
    const fragments = fc.constantFrom('<Autodiscover>', '</Autodiscover>', '<Request>', '</Request>', '<EMailAddress>', '</EMailAddress>', '<![CDATA[', ']]>', '&amp;', '&', '<!DOCTYPE x [<!ENTITY e "v">]>', '&e;', 'a@b.c', '<', '>', '"', ' ');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fragments).map((a) => a.join(''))), (body) => {
        try {
          assert.equal(typeof parseAutodiscoverRequest(body), 'string');
        } catch (err) {
          assert.ok(err instanceof AutodiscoverRequestError, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: any address text, escaped, is read back (trimmed)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => s.trim() !== '' && ![...s].some((c) => c.charCodeAt(0) < 0x20 && c !== '\t' && c !== '\n')), (text) => {
        assert.equal(parseAutodiscoverRequest(wrap(`<EMailAddress>${escapeXml(text)}</EMailAddress>${schema}`)), text.trim());
      }),
      { numRuns: 1000 },
    );
  });
});
