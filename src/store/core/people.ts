/**
 * Members and device passwords of an account. A member is a person sharing the account;
 * the account's own password is the member `owner` (no row). A device password belongs to
 * one member and is stored only as the SHA-256 digest of the generated secret (high
 * entropy, so a fast digest is as safe as scrypt and is looked up by a unique index in
 * one step). A member's viewer id is minus its id (user ids are positive): private flags
 * (`\Seen`) are keyed by viewer id, so removing a member removes its private flags too,
 * and a reused SQLite id never inherits anything.
 *
 * Every change here records a `credentials` event, so open sessions of the account check
 * their login at once (src/auth/live-logins.ts), in this process and, through the change
 * bus or poller, in others.
 */
import { StoreError } from '../errors.js';
import { OWNER_MEMBER, type CredentialState, type Device, type Id, type Member, type NewDevice } from '../types.js';
import { requireUser } from './users.js';
import { validId } from './names.js';
import type { ReadTx, Tx } from './tx.js';

interface MemberRecord {
  id: number;
  user_id: number;
  name: string;
  created_at: number;
}

interface DeviceRecord {
  id: number;
  user_id: number;
  member_id: number | null;
  member_name: string | null;
  name: string;
  settings: string;
  created_at: number;
  last_login_at: number | null;
  last_protocol: string | null;
  last_address: string | null;
}

const DEVICE_SELECT = `SELECT d.id, d.user_id, d.member_id, m.name AS member_name, d.name, d.settings, d.created_at,
    d.last_login_at, d.last_protocol, d.last_address
  FROM devices d LEFT JOIN members m ON m.id = d.member_id`;

/** The viewer id of a member (see ../types.ts Member). */
export function memberViewer(memberId: Id): Id {
  return -Number(memberId);
}

function toMember(r: MemberRecord): Member {
  return { id: Number(r.id), userId: Number(r.user_id), name: r.name, viewerId: memberViewer(r.id), createdAt: new Date(Number(r.created_at)) };
}

function toDevice(r: DeviceRecord): Device {
  const memberId = r.member_id === null ? null : Number(r.member_id);
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    memberId,
    member: r.member_name ?? OWNER_MEMBER,
    viewerId: memberId === null ? Number(r.user_id) : memberViewer(memberId),
    name: r.name,
    settings: JSON.parse(r.settings) as Record<string, string>,
    createdAt: new Date(Number(r.created_at)),
    lastLogin: r.last_login_at === null ? null : { at: new Date(Number(r.last_login_at)), protocol: r.last_protocol ?? '', address: r.last_address ?? '' },
  };
}

/** A name a person can type and read back: 1–64 characters, no control characters, not only spaces. */
function checkName(name: unknown, what: string, max: number): { name: string; key: string } {
  if (typeof name !== 'string') throw new StoreError('invalid', `${what} name must be a string`);
  const n = name.trim();
  // eslint-disable-next-line no-control-regex
  if (n === '' || n.length > max || /[\x00-\x1f\x7f]/.test(n)) throw new StoreError('invalid', `${what} name must be 1-${max} characters without control characters`);
  return { name: n, key: n.toLowerCase() };
}

function touchCredentials(tx: Tx, userId: Id): void {
  tx.touch('credentials', userId, 0);
}

export async function addMember(tx: Tx, userId: Id, name: string): Promise<Member> {
  const n = checkName(name, 'member', 64);
  if (n.key === OWNER_MEMBER) throw new StoreError('exists', `"${OWNER_MEMBER}" is the account's own password`);
  await requireUser(tx, userId);
  const r = await tx.get<MemberRecord>(
    'INSERT INTO members (user_id, name, name_key, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, name_key) DO NOTHING RETURNING *',
    [userId, n.name, n.key, Date.now()],
  );
  if (!r) throw new StoreError('exists', `member ${n.name} exists`);
  return toMember(r);
}

export async function listMembers(tx: ReadTx, userId: Id): Promise<Member[]> {
  await requireUser(tx, userId);
  return (await tx.query<MemberRecord>(`SELECT * FROM members WHERE user_id = ? ORDER BY name_key${tx.d.byteOrder}`, [userId])).map(toMember);
}

async function requireMember(tx: ReadTx, userId: Id, name: string): Promise<MemberRecord> {
  const n = checkName(name, 'member', 64);
  const r = await tx.get<MemberRecord>('SELECT * FROM members WHERE user_id = ? AND name_key = ?', [userId, n.key]);
  if (!r) throw new StoreError('notfound', `no member ${n.name}`);
  return r;
}

export async function deleteMember(tx: Tx, userId: Id, name: string): Promise<Device[]> {
  await tx.lockUsers([userId]);
  const m = await requireMember(tx, userId, name);
  const devices = (await tx.query<DeviceRecord>(`${DEVICE_SELECT} WHERE d.member_id = ?`, [m.id])).map(toDevice);
  await tx.exec('DELETE FROM devices WHERE member_id = ?', [m.id]);
  await tx.exec('DELETE FROM private_flags WHERE user_id = ?', [memberViewer(m.id)]);
  await tx.exec('DELETE FROM metadata WHERE user_id = ? AND owner = ?', [userId, memberViewer(m.id)]);
  await tx.exec('DELETE FROM members WHERE id = ?', [m.id]);
  touchCredentials(tx, userId);
  return devices;
}

export async function addDevice(tx: Tx, userId: Id, d: NewDevice): Promise<Device> {
  const n = checkName(d.name, 'device', 100);
  if (typeof d.secretDigest !== 'string' || !/^[0-9a-f]{64}$/.test(d.secretDigest)) throw new StoreError('invalid', 'secretDigest must be SHA-256 hex');
  await requireUser(tx, userId);
  const owner = typeof d.member === 'string' && d.member.trim().toLowerCase() === OWNER_MEMBER;
  const member = owner ? null : await requireMember(tx, userId, d.member);
  if (await tx.get('SELECT 1 FROM devices WHERE user_id = ? AND name_key = ?', [userId, n.key])) throw new StoreError('exists', `device ${n.name} exists`);
  const r = await tx.get<{ id: number }>(
    'INSERT INTO devices (user_id, member_id, name, name_key, secret_digest, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
    [userId, member?.id ?? null, n.name, n.key, d.secretDigest, Date.now()],
  );
  if (!r) throw new StoreError('exists', 'a device with this secret exists');
  touchCredentials(tx, userId);
  return toDevice((await tx.get<DeviceRecord>(`${DEVICE_SELECT} WHERE d.id = ?`, [r.id]))!);
}

export async function listDevices(tx: ReadTx, userId: Id): Promise<Device[]> {
  await requireUser(tx, userId);
  const o = tx.d.byteOrder;
  return (await tx.query<DeviceRecord>(`${DEVICE_SELECT} WHERE d.user_id = ? ORDER BY d.name_key${o}`, [userId])).map(toDevice);
}

export async function deviceBySecret(tx: ReadTx, digest: string): Promise<Device | null> {
  if (typeof digest !== 'string') return null;
  const r = await tx.get<DeviceRecord>(`${DEVICE_SELECT} WHERE d.secret_digest = ?`, [digest]);
  return r ? toDevice(r) : null;
}

async function requireDevice(tx: ReadTx, userId: Id, name: string): Promise<DeviceRecord> {
  const n = checkName(name, 'device', 100);
  const r = await tx.get<DeviceRecord>(`${DEVICE_SELECT} WHERE d.user_id = ? AND d.name_key = ?`, [userId, n.key]);
  if (!r) throw new StoreError('notfound', `no device ${n.name}`);
  return r;
}

export async function revokeDevice(tx: Tx, userId: Id, name: string): Promise<Device> {
  const r = await requireDevice(tx, userId, name);
  await tx.exec('DELETE FROM devices WHERE id = ?', [r.id]);
  touchCredentials(tx, userId);
  return toDevice(r);
}

export async function setDeviceSetting(tx: Tx, userId: Id, name: string, key: string, value: string | null): Promise<Device> {
  if (typeof key !== 'string' || key === '') throw new StoreError('invalid', 'setting key must be a non-empty string');
  if (value !== null && typeof value !== 'string') throw new StoreError('invalid', 'setting value must be a string or null');
  const r = await requireDevice(tx, userId, name);
  const settings = JSON.parse(r.settings) as Record<string, string>;
  if (value === null) delete settings[key];
  else settings[key] = value;
  await tx.exec('UPDATE devices SET settings = ? WHERE id = ?', [JSON.stringify(settings), r.id]);
  touchCredentials(tx, userId);
  return toDevice({ ...r, settings: JSON.stringify(settings) });
}

export async function recordDeviceLogin(tx: Tx, deviceId: Id, at: Date, protocol: string, address: string): Promise<void> {
  if (!validId(deviceId) || !(at instanceof Date)) throw new StoreError('invalid', 'recordDeviceLogin needs a device id and a date');
  await tx.exec('UPDATE devices SET last_login_at = ?, last_protocol = ?, last_address = ? WHERE id = ?', [at.getTime(), String(protocol).slice(0, 20), String(address).slice(0, 100), deviceId]);
}

export async function liveCredentials(tx: ReadTx, userIds: Id[]): Promise<CredentialState[]> {
  const ids = [...new Set(userIds.filter(validId))];
  if (ids.length === 0) return [];
  const users = await tx.query<{ id: number; password_hash: string; settings: string }>(
    `SELECT id, password_hash, settings FROM users WHERE id ${tx.d.inList('int')}`, [tx.d.listParam(ids)],
  );
  const devices = await tx.query<{ id: number; user_id: number; member_id: number | null; settings: string }>(
    `SELECT id, user_id, member_id, settings FROM devices WHERE user_id ${tx.d.inList('int')}`, [tx.d.listParam(ids)],
  );
  const byUser = new Map<number, CredentialState>(users.map((u) => [Number(u.id), {
    userId: Number(u.id), passwordHash: u.password_hash, settings: JSON.parse(u.settings) as Record<string, string>, devices: [],
  }]));
  for (const d of devices) {
    byUser.get(Number(d.user_id))?.devices.push({ id: Number(d.id), memberId: d.member_id === null ? null : Number(d.member_id), settings: JSON.parse(d.settings) as Record<string, string> });
  }
  return [...byUser.values()];
}
