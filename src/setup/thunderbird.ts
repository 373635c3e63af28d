/**
 * Thunderbird's autoconfig file (clientConfig version 1.1, as Thunderbird's
 * accountConfig reader parses it): every IMAP and POP3 endpoint as an incomingServer
 * (so a person can pick POP3 in the manual step), every submission endpoint as an
 * outgoingServer, preferred first. The login is the full address (`%EMAILADDRESS%`).
 */
import type { Endpoint } from './endpoints.js';
import { escapeXml, indent, textElement } from './xml.js';

const SOCKET_TYPE = { implicit: 'SSL', starttls: 'STARTTLS' } as const;

export function thunderbirdConfig(domain: string, endpoints: Endpoint[]): string {
  const servers = endpoints.map((e) => {
    const tag = e.protocol === 'smtp' ? 'outgoingServer' : 'incomingServer';
    const body = [
      textElement('hostname', e.host),
      textElement('port', e.port),
      textElement('socketType', SOCKET_TYPE[e.tls]),
      textElement('authentication', 'password-cleartext'),
      textElement('username', '%EMAILADDRESS%'),
    ];
    // Other devices (IMAP, other POP3 apps) read the same mailbox: a POP3 app should not take the mail away.
    if (e.protocol === 'pop3') body.push('<pop3>', ...indent([textElement('leaveMessagesOnServer', 'true')]), '</pop3>');
    return [`<${tag} type="${e.protocol}">`, ...indent(body), `</${tag}>`];
  });
  const provider = [
    textElement('domain', domain),
    textElement('displayName', `${domain} (Mailroom)`),
    textElement('displayShortName', domain),
    ...servers.flat(),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    ...indent([`<emailProvider id="${escapeXml(domain)}">`, ...indent(provider), '</emailProvider>']),
    '</clientConfig>',
    '',
  ].join('\n');
}
