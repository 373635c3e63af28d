/**
 * What `mailroom user set` and `mailroom user show` do (registered in user-settings.ts,
 * which imports this module only when one of them runs: the policy modules it needs are
 * no other `user` command's business).
 */
import { requireUser } from '../mail/accounts.js';
import { normalisePop3Setting, POP3_SETTINGS, pop3Policy, expireText } from '../mail/pop3-policy.js';
import { normaliseSentCopySetting, SENT_COPY_SETTING, wantsSentCopy } from '../mail/sent-copy-setting.js';
import { normaliseRequireDevicePasswords, REQUIRE_DEVICE_PASSWORDS } from '../auth/device-limits.js';
import { normaliseQuotaAdmin, QUOTA_ADMIN } from '../mail/quota-admin.js';
import { normaliseSendAsSetting, SEND_AS_SETTING } from '../mail/send-as-setting.js';
import { CliError, type CliContext } from './context.js';
import { deviceLine } from './people.js';
import { NEW_LOGIN_NOTICE_SETTING, normaliseNewLoginNotice, wantsNewLoginNotice } from '../mail/new-login-notice-setting.js';
import { failedLoginLine } from './login-lines.js';
import { ADMIN_SETTING, normaliseAdminSetting } from '../auth/admin-users.js';

/** Every per-user key with what it accepts. */
const SETTINGS: Record<string, string> = { ...POP3_SETTINGS, [SENT_COPY_SETTING]: 'on | off', [REQUIRE_DEVICE_PASSWORDS]: 'yes | no', [NEW_LOGIN_NOTICE_SETTING]: 'on | off', [ADMIN_SETTING]: 'yes | no', [QUOTA_ADMIN]: 'yes | no', [SEND_AS_SETTING]: 'addresses or @domains, comma-separated' };

function normalise(key: string, value: string): string {
  if (key === SENT_COPY_SETTING) return normaliseSentCopySetting(value);
  if (key === REQUIRE_DEVICE_PASSWORDS) return normaliseRequireDevicePasswords(value);
  if (key === NEW_LOGIN_NOTICE_SETTING) return normaliseNewLoginNotice(value);
  if (key === ADMIN_SETTING) return normaliseAdminSetting(value);
  if (key === QUOTA_ADMIN) return normaliseQuotaAdmin(value);
  if (key === SEND_AS_SETTING) return normaliseSendAsSetting(value);
  return normalisePop3Setting(key, value);
}

function parseAssignment(text: string): { key: string; value: string | null } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`expected key=value, got ${JSON.stringify(text)}; known keys: ${Object.keys(SETTINGS).join(', ')}`);
  const key = text.slice(0, eq).trim();
  const value = text.slice(eq + 1);
  if (!(key in SETTINGS)) throw new CliError(`unknown setting ${key}; known keys: ${Object.keys(SETTINGS).join(', ')}`);
  if (value.trim() === '') return { key, value: null };
  try {
    return { key, value: normalise(key, value) };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** `user set ADDRESS key=value…`: every assignment validated before any is written. */
export async function setUserSettings({ store }: CliContext, address: string, assignments: string[]): Promise<void> {
  const changes = assignments.map(parseAssignment);
  const found = await requireUser(store, address);
  for (const c of changes) {
    await store.setUserSetting(found.id, c.key, c.value);
    console.log(c.value === null ? `${found.address}: ${c.key} removed (config default applies)` : `${found.address}: ${c.key}=${c.value}`);
  }
}

/** `user show ADDRESS`. */
export async function showUser({ store, config }: CliContext, address: string): Promise<void> {
  const found = await requireUser(store, address);
  const q = await store.getQuota(found.id);
  const p = pop3Policy(config.pop3, found.settings);
  const origin = (key: string) => (found.settings[key] !== undefined ? 'user' : 'default');
  console.log(`address\t${found.address}`);
  console.log(`messages\t${q.usedMessages}\nbytes\t${q.usedBytes}`);
  console.log(`pop3.deleteMode\t${p.deleteMode}\t(${origin('pop3.deleteMode')})`);
  console.log(`pop3.markSeen\t${p.markSeen}\t(${origin('pop3.markSeen')})`);
  console.log(`pop3.keepDays\t${expireText(p.keepDays).toLowerCase()}\t(${origin('pop3.keepDays')})`);
  console.log(`pop3.loginDelay\t${p.loginDelay}\t(${origin('pop3.loginDelay')})`);
  console.log(`${SENT_COPY_SETTING}\t${wantsSentCopy(found, config.smtp.sent_copies) ? 'on' : 'off'}\t(${origin(SENT_COPY_SETTING)})`);
  console.log(`${SEND_AS_SETTING}\t${found.settings[SEND_AS_SETTING] ?? '(none)'}\t(${origin(SEND_AS_SETTING)})`);
  console.log(`${REQUIRE_DEVICE_PASSWORDS}\t${found.settings[REQUIRE_DEVICE_PASSWORDS] ?? 'no'}\t(${origin(REQUIRE_DEVICE_PASSWORDS)})`);
  console.log(`${NEW_LOGIN_NOTICE_SETTING}\t${wantsNewLoginNotice(found, config.auth.new_login_notice) ? 'on' : 'off'}\t(${origin(NEW_LOGIN_NOTICE_SETTING)})`);
  console.log(`${ADMIN_SETTING}\t${found.settings[ADMIN_SETTING] ?? 'no'}\t(${origin(ADMIN_SETTING)})`);
  console.log(`${QUOTA_ADMIN}\t${found.settings[QUOTA_ADMIN] ?? 'no'}\t(${origin(QUOTA_ADMIN)})`);
  const members = await store.listMembers(found.id);
  console.log(`members\towner${members.map((m) => `, ${m.name}`).join('')}`);
  for (const d of await store.listDevices(found.id)) console.log(`device\t${deviceLine(d)}`);
  const failed = await store.listFailedLogins(found.id, 20);
  console.log(`failed logins\t${failed.length === 0 ? 'none' : `${failed.length} (newest first)`}`);
  for (const f of failed) console.log(`failed\t${failedLoginLine(f)}`);
}
