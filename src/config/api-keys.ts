/**
 * API keys, read once at start-up from the environment: `FINDTHIS_API_KEYS` (comma-separated) or the
 * file named by `FINDTHIS_API_KEYS_FILE` (a secret mounted by an orchestrator: keys separated by
 * commas or newlines). They are kept out of the config file on purpose, and error messages never
 * repeat them.
 */
import { readFileSync } from 'node:fs';
import { FindthisError } from '../core/errors.js';

/** Long enough that guessing is hopeless; printable ASCII without spaces or commas (header-safe). */
export const API_KEY_PATTERN = /^[!-+\--~]{16,256}$/;

type Env = Record<string, string | undefined>;

/** The keys (empty: writes are open). Throws INVALID_CONFIG naming the source and position, never the key. */
export function loadApiKeys(env: Env = process.env): readonly string[] {
  const inline = env.FINDTHIS_API_KEYS;
  const file = env.FINDTHIS_API_KEYS_FILE;
  if (inline && file) {
    throw new FindthisError('INVALID_CONFIG', 'Expected one of FINDTHIS_API_KEYS or FINDTHIS_API_KEYS_FILE, but got both');
  }
  let text = inline ?? '';
  let source = 'env FINDTHIS_API_KEYS';
  if (file) {
    source = `FINDTHIS_API_KEYS_FILE (${file})`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new FindthisError('INVALID_CONFIG', `Cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    if (text.trim() === '') throw new FindthisError('INVALID_CONFIG', `Expected at least one API key in ${source}, but got an empty file`);
  }
  const keys = text.split(/[,\r\n]+/).map((key) => key.trim()).filter((key) => key !== '');
  keys.forEach((key, n) => {
    if (!API_KEY_PATTERN.test(key)) {
      throw new FindthisError(
        'INVALID_CONFIG',
        `Expected 16–256 printable ASCII characters without spaces or commas for API key ${n + 1} of ${source}, but got ${key.length < 16 || key.length > 256 ? `a key of ${key.length} characters` : 'a key with other characters'}`,
      );
    }
  });
  return Object.freeze([...new Set(keys)]);
}
