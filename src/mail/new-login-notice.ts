/**
 * The notice an account gets when it logs in from a new device or address (issue 12):
 * who (member), what (device password or account password), when, protocol, address,
 * and how to revoke it. Delivered into the account's INBOX like any mail, past its quota
 * (a warning must not bounce). Opt-out per account: `new_login_notice=off`.
 */
import { randomUUID } from 'node:crypto';
import type { NewLogin } from '../auth/login-events.js';
import { deliver, type DeliveryContext } from './delivery.js';
import { MessageSource } from './message-source.js';
import { NEW_LOGIN_NOTICE_SETTING, normaliseNewLoginNotice, wantsNewLoginNotice } from './new-login-notice-setting.js';

export { NEW_LOGIN_NOTICE_SETTING, normaliseNewLoginNotice, wantsNewLoginNotice };

/** A shell word that survives copy and paste: single-quoted unless it is plain. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9@._+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The notice as an RFC 5322 message (UTF-8 body; the header holds only ASCII we made). */
export function newLoginNoticeMessage(n: NewLogin, hostname: string): Buffer {
  const { user, login } = n;
  const what = login.device ? `the device password "${login.device.name}"` : 'the account password';
  const revoke = login.device
    ? `If this was not you, revoke that device password at once:\n\n    mailroom device revoke ${shellWord(user.address)} ${shellWord(login.device.name)}\n\nor on the admin page (Members and devices).`
    : `If this was not you, change the account password at once:\n\n    mailroom user passwd ${shellWord(user.address)} --password NEW-PASSWORD\n\nChanging it ends every session that used the old one.`;
  const body = [
    `Your account ${user.address} was just used from a device or address it had not used before.`,
    '',
    `Who:      ${login.member}`,
    `What:     ${what}`,
    `When:     ${n.at.toUTCString()}`,
    `Protocol: ${login.protocol.toUpperCase()}`,
    `Address:  ${n.remoteAddress}`,
    '',
    'If this was you, there is nothing to do: the next logins from it send no notice.',
    '',
    revoke,
    '',
    `To stop these notices: mailroom user set ${shellWord(user.address)} ${NEW_LOGIN_NOTICE_SETTING}=off`,
    '',
  ].join('\r\n');
  const head = [
    `From: Mailroom <postmaster@${hostname}>`,
    `To: <${user.address}>`,
    `Subject: New login to ${user.address} (${login.protocol.toUpperCase()} from ${n.remoteAddress})`,
    `Date: ${n.at.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomUUID()}@${hostname}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ].join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${body}`, 'utf8');
}

/** The notice sender the server wires into the login events (src/auth/login-events.ts). */
export function newLoginNotifier(ctx: DeliveryContext, opts: { hostname: string; serverDefault: boolean }): (n: NewLogin) => Promise<void> {
  return async (n) => {
    if (!wantsNewLoginNotice(n.user, opts.serverDefault)) return;
    const source = MessageSource.fromBuffer(newLoginNoticeMessage(n, opts.hostname));
    const [outcome] = await deliver({ ...ctx, ignoreQuota: true }, source, [n.user.address]);
    if (outcome.status !== 'delivered') throw new Error(`new-login notice to ${n.user.address} not delivered: ${outcome.reason}`);
  };
}
