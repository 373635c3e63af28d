/**
 * `mailroom member add|list|del ACCOUNT NAME` and `mailroom device add|list|revoke|set`:
 * the people sharing an account and their device passwords. A new device password is
 * printed once, alone on the last line of stdout (scripts take `tail -n 1`); only its
 * digest is stored. Revoking, deleting a member or changing the password ends the
 * sessions that used it, also in a running server (a `credentials` change event).
 */
import type { Command } from 'commander';
import { requireUser } from '../mail/accounts.js';
import { devicePasswordDigest, generateDevicePassword } from '../auth/device-password.js';
import { DEVICE_SETTINGS, normaliseDeviceSetting } from '../auth/device-limits.js';
import { OWNER_MEMBER, type Device } from '../store/types.js';
import { CliError, globalOptions, runWithStore } from './context.js';

function parseDeviceAssignment(text: string): { key: string; value: string | null } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`expected key=value, got ${JSON.stringify(text)}; known keys: ${Object.keys(DEVICE_SETTINGS).join(', ')}`);
  const key = text.slice(0, eq).trim();
  const value = text.slice(eq + 1);
  if (!(key in DEVICE_SETTINGS)) throw new CliError(`unknown device setting ${key}; known keys: ${Object.keys(DEVICE_SETTINGS).join(', ')}`);
  if (value.trim() === '') return { key, value: null };
  try {
    return { key, value: normaliseDeviceSetting(key, value) };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** One line of `device list`: name, member, created, last login (time, protocol, address), limits. */
export function deviceLine(d: Device): string {
  const last = d.lastLogin ? `${d.lastLogin.at.toISOString()}\t${d.lastLogin.protocol}\t${d.lastLogin.address}` : 'never\t-\t-';
  const limits = Object.entries(d.settings).map(([k, v]) => `${k}=${v}`).join(' ');
  return `${d.name}\t${d.member}\t${d.createdAt.toISOString()}\t${last}${limits ? `\t${limits}` : ''}`;
}

function registerMembers(program: Command): void {
  const member = program.command('member').description('people sharing an account (each with a private read state)');
  member
    .command('add <account> <name>')
    .description('add a person to the account')
    .action((account: string, name: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const u = await requireUser(store, account);
        const m = await store.addMember(u.id, name);
        console.log(`added member ${m.name} to ${u.address}`);
      }),
    );
  member
    .command('list <account>')
    .description('list the people of an account (owner: the account password)')
    .action((account: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const u = await requireUser(store, account);
        const devices = await store.listDevices(u.id);
        const count = (name: string) => devices.filter((d) => d.member.toLowerCase() === name.toLowerCase()).length;
        console.log(`${OWNER_MEMBER}\t${u.createdAt.toISOString()}\t${count(OWNER_MEMBER)} devices`);
        for (const m of await store.listMembers(u.id)) console.log(`${m.name}\t${m.createdAt.toISOString()}\t${count(m.name)} devices`);
      }),
    );
  member
    .command('del <account> <name>')
    .description('remove a person with their devices and read state; their open sessions end')
    .action((account: string, name: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const u = await requireUser(store, account);
        const devices = await store.deleteMember(u.id, name);
        console.log(`deleted member ${name.trim()} of ${u.address} (${devices.length} device password${devices.length === 1 ? '' : 's'} revoked)`);
      }),
    );
}

function registerDevices(program: Command): void {
  const device = program.command('device').description('device passwords: one per phone, laptop or app');
  device
    .command('add <account>')
    .description('create a device password; it is printed once, alone on the last line')
    .requiredOption('--name <name>', 'the device, e.g. "Alice\'s phone"')
    .option('--member <member>', 'whose device it is', OWNER_MEMBER)
    .action((account: string, opts: { name: string; member: string }, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const u = await requireUser(store, account);
        const password = generateDevicePassword();
        const d = await store.addDevice(u.id, { member: opts.member, name: opts.name, secretDigest: devicePasswordDigest(password) });
        console.log(`added device "${d.name}" for ${d.member} of ${u.address}; log in with ${u.address} and this password (shown once):`);
        console.log(password);
      }),
    );
  device
    .command('list <account>')
    .description('list devices: name, member, created, last login time, protocol and address, limits')
    .action((account: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const u = await requireUser(store, account);
        for (const d of await store.listDevices(u.id)) console.log(deviceLine(d));
      }),
    );
  device
    .command('revoke <account> <name>')
    .description('revoke a device password; its open sessions end at once')
    .action((account: string, name: string, _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const u = await requireUser(store, account);
        const d = await store.revokeDevice(u.id, name);
        console.log(`revoked device "${d.name}" of ${u.address}`);
      }),
    );
  device
    .command('set <account> <name> <assignments...>')
    .description(`limit a device: ${Object.entries(DEVICE_SETTINGS).map(([k, v]) => `${k}=${v}`).join('; ')} (key= removes)`)
    .action((account: string, name: string, assignments: string[], _o: unknown, cmd: Command) =>
      runWithStore(globalOptions(cmd), async ({ store }) => {
        const changes = assignments.map(parseDeviceAssignment); // all validated before any is written
        const u = await requireUser(store, account);
        for (const c of changes) {
          const d = await store.setDeviceSetting(u.id, name, c.key, c.value);
          console.log(c.value === null ? `device "${d.name}": ${c.key} removed` : `device "${d.name}": ${c.key}=${c.value}`);
        }
      }),
    );
}

export function registerPeopleCommands(program: Command): void {
  registerMembers(program);
  registerDevices(program);
}
