/**
 * Per-device limits (`mailroom device set ACCOUNT NAME key=value`) and the per-account
 * `auth.require_device_passwords`: the keys, what they accept, and the checks protocols
 * make with them. Pure functions over the stored settings.
 *
 * Never imports: store backends, protocols.
 */

export type MailProtocol = 'imap' | 'pop3' | 'smtp';

export const MAIL_PROTOCOLS: readonly MailProtocol[] = ['imap', 'pop3', 'smtp'];

/** Per-account user setting: `yes` forbids the account password for IMAP, POP3 and SMTP AUTH. */
export const REQUIRE_DEVICE_PASSWORDS = 'auth.require_device_passwords';

/** Device setting keys with what they accept (for the CLI's messages). */
export const DEVICE_SETTINGS: Record<string, string> = {
  protocols: 'a comma-separated subset of imap,pop3,smtp',
  readonly: 'yes | no',
  delete: 'everywhere | device | trash',
};

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

/** Normalises the user setting `auth.require_device_passwords`. */
export function normaliseRequireDevicePasswords(value: string): string {
  const v = value.trim().toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(v)) return 'yes';
  if (['no', 'false', 'off', '0'].includes(v)) return 'no';
  throw new Error(`${REQUIRE_DEVICE_PASSWORDS} must be yes or no, got ${JSON.stringify(value)}`);
}
