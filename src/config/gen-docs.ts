/**
 * Renders docs/config.md from the schema, so the reference can never drift from
 * what the loader accepts. Regenerate with:
 *   npx tsc -p . && node dist/src/config/gen-docs.js > docs/config.md
 * (config.test.ts fails when the committed file differs.)
 */
import { pathToFileURL } from 'node:url';
import { formatListenAddress, leafKeys, type LeafKey, type ListenAddress } from './schema.js';
import { defaultOf } from './validate.js';

/** The full Markdown text of docs/config.md. */
export function renderConfigDocs(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `node dist/src/config/gen-docs.js > docs/config.md`. Do not edit by hand. -->',
    '',
    'Mailroom reads one TOML file: `--config FILE` (which must exist), else `./mailroom.toml` if it exists,',
    'else only the defaults below. Every key can also be set by an environment variable; the variable',
    'wins over the file, and `--data DIR` wins over both. An empty variable counts as unset.',
    'Variables are strings: integers are written in decimal, booleans as `true`/`false`/`1`/`0`.',
    'Unknown keys in the file are errors. A bad value stops the server with one line naming the key,',
    'where the value came from and what was expected, and exit code 2.',
    '',
    'Listener addresses are `host:port` (IPv6 as `[::1]:143`) or `off`. Port 0 picks a free port;',
    'the chosen port is in the `listening` log line. Relative paths are resolved from the working directory.',
    '',
  ];
  let section: string | null = null;
  for (const leaf of leafKeys()) {
    if (leaf.section !== section) {
      section = leaf.section;
      lines.push(section ? `## [${section}]` : '## Top level', '');
      lines.push('| Key | Type | Default | Environment | Description |', '| --- | --- | --- | --- | --- |');
    }
    lines.push(`| \`${leaf.path}\` | ${typeName(leaf)} | ${defaultText(leaf)} | \`${leaf.info.env}\` | ${leaf.info.description} |`);
    if (isLastOfSection(leaf)) lines.push('');
  }
  lines.push('## Example', '', '```toml', ...example(), '```', '');
  return lines.join('\n');
}

function isLastOfSection(leaf: LeafKey): boolean {
  const all = leafKeys();
  const i = all.findIndex((l) => l.path === leaf.path);
  return i === all.length - 1 || all[i + 1].section !== leaf.section;
}

function typeName(leaf: LeafKey): string {
  if (leaf.section === 'listen') return 'address or `off`';
  if (leaf.path === 'log.level') return leaf.info.expected.replace('one of ', 'one of: ');
  return { string: 'string', int: 'integer', bool: 'boolean' }[leaf.info.kind];
}

/** Parsing `undefined` yields the schema default; addresses are shown as config text. */
function defaultValue(leaf: LeafKey): unknown {
  const value = defaultOf(leaf.spec);
  return typeof value === 'object' && value !== null ? formatListenAddress(value as ListenAddress) : value;
}

function defaultText(leaf: LeafKey): string {
  if (leaf.info.docDefault) return leaf.info.docDefault;
  const value = defaultValue(leaf);
  return value === '' ? '(empty)' : `\`${String(value)}\``;
}

function example(): string[] {
  const out: string[] = [];
  let section: string | null = null;
  for (const leaf of leafKeys()) {
    if (leaf.info.docDefault) continue;
    if (leaf.section !== section) {
      section = leaf.section;
      if (section) out.push('', `[${section}]`);
    }
    const value = defaultValue(leaf);
    out.push(`${leaf.key} = ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(renderConfigDocs());
}
