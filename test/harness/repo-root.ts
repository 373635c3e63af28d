/**
 * The repository root, found from this file's compiled location
 * (dist/test/harness/repo-root.js → three levels up), so tests work from any cwd.
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root, without a trailing slash. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

/** Absolute path of the built CLI entry point. */
export const mainJs = `${repoRoot}/dist/src/main.js`;
