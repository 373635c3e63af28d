/**
 * Outlook Autodiscover, the "POX" form for POP/IMAP accounts (MS-OXDSCLI; Outlook
 * 2007 onwards): the request names the address and the response schema it accepts;
 * the response lists one Protocol element per endpoint (IMAP, POP3, SMTP), preferred
 * first. SSL/Encryption say how TLS starts: `SSL` from the first byte, `TLS` by
 * STARTTLS.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Endpoint } from './endpoints.js';
import { indent, textElement } from './xml.js';

export const OUTLOOK_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

export class AutodiscoverRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AutodiscoverRequestError';
  }
}

/** The address asked about; throws AutodiscoverRequestError when the request is not one Outlook would send. */
export function parseAutodiscoverRequest(body: string): string {
  // Outlook sends no DTD; refusing one means no entity of the sender's is ever expanded (billion laughs).
  if (/<!DOCTYPE/i.test(body)) throw new AutodiscoverRequestError('a DOCTYPE is not accepted');
  if (XMLValidator.validate(body) !== true) throw new AutodiscoverRequestError('the request is not well-formed XML');
  let doc: Record<string, unknown>;
  try {
    // Namespace prefixes vary between clients; only local names matter.
    doc = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, processEntities: true, htmlEntities: false }).parse(body) as Record<string, unknown>;
  } catch (err) {
    throw new AutodiscoverRequestError(`the request is not well-formed XML (${(err as Error).message})`);
  }
  const request = (doc.Autodiscover as Record<string, unknown> | undefined)?.Request as Record<string, unknown> | undefined;
  if (!request || typeof request !== 'object') throw new AutodiscoverRequestError('expected <Autodiscover><Request>…</Request></Autodiscover>');
  const email = request.EMailAddress;
  if (typeof email !== 'string' || email.trim() === '') throw new AutodiscoverRequestError('the request has no EMailAddress');
  const schema = request.AcceptableResponseSchema;
  if (schema !== undefined && String(schema).trim() !== OUTLOOK_RESPONSE_SCHEMA) {
    throw new AutodiscoverRequestError(`only the response schema ${OUTLOOK_RESPONSE_SCHEMA} is offered (mail apps: IMAP, POP3, SMTP)`);
  }
  return email.trim();
}

const PROTOCOL_TYPE = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' } as const;

export function autodiscoverResponse(address: string, displayName: string, endpoints: Endpoint[]): string {
  const protocols = endpoints.map((e) => [
    '<Protocol>',
    ...indent([
      textElement('Type', PROTOCOL_TYPE[e.protocol]),
      textElement('Server', e.host),
      textElement('Port', e.port),
      textElement('DomainRequired', 'off'),
      textElement('LoginName', address),
      textElement('SPA', 'off'),
      textElement('SSL', 'on'),
      textElement('Encryption', e.tls === 'implicit' ? 'SSL' : 'TLS'),
      textElement('AuthRequired', 'on'),
      ...(e.protocol === 'smtp' ? [textElement('UsePOPAuth', 'off'), textElement('SMTPLast', 'off')] : []),
    ]),
    '</Protocol>',
  ]);
  const account = ['<Account>', ...indent([textElement('AccountType', 'email'), textElement('Action', 'settings'), ...protocols.flat()]), '</Account>'];
  const user = ['<User>', ...indent([textElement('DisplayName', displayName)]), '</User>'];
  return document([`<Response xmlns="${OUTLOOK_RESPONSE_SCHEMA}">`, ...indent([...user, ...account]), '</Response>']);
}

/** An error response (Exchange's codes: 500 address not found, 600 invalid request, 601 schema not offered). */
export function autodiscoverError(code: 500 | 600 | 601, message: string, now = new Date()): string {
  const time = now.toISOString().slice(11, 23);
  return document([
    '<Response>',
    ...indent([`<Error Time="${time}" Id="0">`, ...indent([textElement('ErrorCode', code), textElement('Message', message), '<DebugData />']), '</Error>']),
    '</Response>',
  ]);
}

function document(response: string[]): string {
  return ['<?xml version="1.0" encoding="utf-8"?>', `<Autodiscover xmlns="${RESPONSE_NS}">`, ...indent(response), '</Autodiscover>', ''].join('\n');
}
