import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, Help } from 'commander';
import { buildProgram, COMMAND_GROUPS, commandNameIn } from './program.js';

test('--help summaries and usage are what each lazily loaded module registers', async () => {
  const help = new Help();
  for (const group of COMMAND_GROUPS) {
    const program = new Command('mailroom');
    for (const register of await group.load()) register(program);
    const registered = program.commands.map((c) => ({ name: c.name(), term: help.subcommandTerm(c), summary: c.description() }));
    const listed = group.commands.map((c) => ({ name: c.name, term: c.usage ? `${c.name} ${c.usage}` : c.name, summary: c.summary }));
    assert.deepEqual(registered, listed);
  }
});

test('only the named command is loaded; the others are placeholders with the same help line', async () => {
  const lazy = await buildProgram(['node', 'mailroom', '--data', 'd', 'user', 'list']);
  const user = lazy.commands.find((c) => c.name() === 'user')!;
  assert.deepEqual(user.commands.map((c) => c.name()), ['add', 'del', 'passwd', 'list', 'set', 'show']);
  const queue = lazy.commands.find((c) => c.name() === 'queue')!;
  assert.equal(queue.commands.length, 0, 'not loaded');
  assert.equal(lazy.helpInformation(), (await buildProgram(['node', 'mailroom'])).helpInformation());
});

const names: [string[], string | undefined][] = [
  [['user', 'add', 'x'], 'user'],
  [['--data', 'user', 'queue', 'list'], 'queue'],
  [['--config', 'f.toml', '--data', 'd', 'serve'], 'serve'],
  [['help', 'dkim'], 'dkim'],
  [['--help'], undefined],
  [['-V'], undefined],
  [['--', 'user'], undefined],
];
for (const [args, want] of names) test(`commandNameIn ${args.join(' ')}`, () => assert.equal(commandNameIn(args), want));
