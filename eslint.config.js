// Lint rules, including the architecture: arrows go protocols → mail → store/types ← backends.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (files, patterns, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  restrict(['src/mime/**/*.ts', 'src/imap/protocol/**/*.ts'], ['**/store/**', '**/net/**', '**/mail/**', 'better-sqlite3', 'pg'],
    'Codecs are pure: no store, network or mail services.'),
  restrict(['src/store/types.ts', 'src/store/errors.ts', 'src/store/bus.ts'], ['**/sqlite/**', '**/postgres/**', '**/imap/**', '**/pop3/**', '**/smtp/**', '**/mail/**'],
    'The store contract knows no backend and no protocol.'),
  restrict(['src/store/**/*.ts'], ['**/imap/**', '**/pop3/**', '**/smtp/**', '**/mail/**', '**/net/**'],
    'A store backend never knows protocols or mail services.'),
  // Later entries replace the rule for their files, so each repeats the protocol patterns.
  restrict(['src/store/core/**/*.ts'], ['**/imap/**', '**/pop3/**', '**/smtp/**', '**/mail/**', '**/net/**', '**/sqlite/**', '**/postgres/**', 'better-sqlite3', 'pg'],
    'Storage rules are written once, against the driver port: no backend, no SQL driver, no protocol.'),
  restrict(['src/store/sqlite/**/*.ts'], ['**/imap/**', '**/pop3/**', '**/smtp/**', '**/mail/**', '**/net/**', '**/postgres/**', 'pg'],
    'A backend never imports another backend (shared rules live in store/core).'),
  restrict(['src/store/postgres/**/*.ts'], ['**/imap/**', '**/pop3/**', '**/smtp/**', '**/mail/**', '**/net/**', '**/sqlite/**', 'better-sqlite3'],
    'A backend never imports another backend (shared rules live in store/core).'),
  restrict(['src/mail/**/*.ts'], ['**/imap/**', '**/pop3/**', '**/smtp/**', '**/sqlite/**', '**/postgres/**'],
    'Mail services are protocol-neutral and use only the store contract.'),
  restrict(['src/imap/**/*.ts', 'src/pop3/**/*.ts', 'src/smtp/**/*.ts'], ['**/sqlite/**', '**/postgres/**', 'better-sqlite3', 'pg'],
    'Protocol code never touches SQL.'),
);
