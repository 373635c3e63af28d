/**
 * Per-device limits (`mailroom device set ACCOUNT NAME key=value`) and the per-account
 * `auth.require_device_passwords`: the keys, what they accept, and the checks protocols
 * make with them. Pure functions over the stored settings.
 *
 * Never imports: store backends, protocols.
 */
import { normalisePop3Setting, POP3_SETTINGS } from '../mail/pop3-policy.js';

export type MailProtocol = 'imap' | 'pop3' | 'smtp';

export const MAIL_PROTOCOLS: readonly MailProtocol[] = ['imap', 'pop3', 'smtp'];

/** Per-account user setting: `yes` forbids the account password for IMAP, POP3 and SMTP AUTH. */
export const REQUIRE_DEVICE_PASSWORDS = 'auth.require_device_passwords';

/** Device setting keys with what they accept (for the CLI's messages). */
export const DEVICE_SETTINGS: Record<string, string> = {
  protocols: 'a comma-separated subset of imap,pop3,smtp',
  readonly: 'yes | no',
  delete: 'everywhere | device | trash',
  window: 'Nd: only mail of the last N days (1-36500) by internal date',
  'pop3.deleteMode': `${POP3_SETTINGS['pop3.deleteMode']} (this device's own; hide: the device's own downloaded-and-deleted set)`,
  'pop3.keepDays': POP3_SETTINGS['pop3.keepDays'],
};

/** The POP3 policy keys a device may set for itself, over the account's. */
const DEVICE_POP3_KEYS = ['pop3.deleteMode', 'pop3.keepDays'];

/** The settings a POP3 login's policy is made of: the account's, with the device's own POP3 keys over them. */
export function pop3SettingsFor(account: Record<string, string>, device: Record<string, string> | undefined): Record<string, string> {
  if (!device || !DEVICE_POP3_KEYS.some((k) => device[k] !== undefined)) return account;
  const out = { ...account };
  for (const k of DEVICE_POP3_KEYS) if (device[k] !== undefined) out[k] = device[k];
  return out;
}

/** What an expunge (IMAP EXPUNGE/CLOSE, POP3 DELE) by a device does: see src/mail/device-delete.ts. */
export type DeviceDeleteMode = 'everywhere' | 'device' | 'trash';

/** Validates and normalises one device setting; throws an Error naming what is accepted. */
export function normaliseDeviceSetting(key: string, value: string): string {
  const v = value.trim().toLowerCase();
  if (key === 'protocols') {
    const list = [...new Set(v.split(',').map((p) => p.trim()).filter((p) => p !== ''))];
    if (list.length === 0 || !list.every((p) => (MAIL_PROTOCOLS as readonly string[]).includes(p))) throw new Error(`protocols must be ${DEVICE_SETTINGS.protocols}, got ${JSON.stringify(value)}`);
    return MAIL_PROTOCOLS.filter((p) => list.includes(p)).join(',');
  }
  if (key === 'readonly') {
    if (['yes', 'true', 'on', '1'].includes(v)) return 'yes';
    if (['no', 'false', 'off', '0'].includes(v)) return 'no';
    throw new Error(`readonly must be yes or no, got ${JSON.stringify(value)}`);
  }
  if (DEVICE_POP3_KEYS.includes(key)) return normalisePop3Setting(key, value);
  if (key === 'window') {
    const m = /^(\d{1,5})d?$/.exec(v);
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 36500) return `${Number(m[1])}d`;
    throw new Error(`window must be a number of days like 90d (1-36500), got ${JSON.stringify(value)}`);
  }
  if (key === 'delete') {
    if (v === 'everywhere' || v === 'device' || v === 'trash') return v;
    throw new Error(`delete must be ${DEVICE_SETTINGS.delete}, got ${JSON.stringify(value)}`);
  }
  throw new Error(`unknown device setting ${key}; known: ${Object.keys(DEVICE_SETTINGS).join(', ')}`);
}

/** Whether a device with these settings may log in over `protocol` (no `protocols` key: every protocol). */
export function deviceAllows(settings: Record<string, string>, protocol: MailProtocol): boolean {
  const p = settings.protocols;
  return p === undefined || p.split(',').includes(protocol);
}

/** Whether a device with these settings may only read (`readonly=yes`). */
export function deviceReadOnly(settings: Record<string, string> | undefined): boolean {
  return settings?.readonly === 'yes';
}

/** The device's `delete` mode; no device, no setting or a hand-edited value: everywhere (an ordinary expunge). */
export function deviceDeleteMode(settings: Record<string, string> | undefined): DeviceDeleteMode {
  const d = settings?.delete;
  return d === 'device' || d === 'trash' ? d : 'everywhere';
}

/** The oldest internal date a device with `window=Nd` sees; null without a (valid) window. */
export function deviceWindowSince(settings: Record<string, string> | undefined, now = Date.now()): Date | null {
  const m = settings?.window === undefined ? null : /^(\d{1,5})d$/.exec(settings.window);
  return m ? new Date(now - Number(m[1]) * 86_400_000) : null;
}

/** Normalises the user setting `auth.require_device_passwords`. */
export function normaliseRequireDevicePasswords(value: string): string {
  const v = value.trim().toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(v)) return 'yes';
  if (['no', 'false', 'off', '0'].includes(v)) return 'no';
  throw new Error(`${REQUIRE_DEVICE_PASSWORDS} must be yes or no, got ${JSON.stringify(value)}`);
}
