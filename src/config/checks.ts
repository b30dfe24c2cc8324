/**
 * The one validation vocabulary for config keys, HTTP fields and CLI flags: each check names the
 * parameter, says what was expected and what came ("Expected an integer in 1..100 for k, but got
 * "0""). The `fail` factory decides the error code: INVALID_FIELD for requests and flags
 * (`invalidParameter`), INVALID_CONFIG for start-up configuration (`invalidConfig`).
 */
import { FindthisError, describeValue, invalidParameter } from '../core/errors.js';

export type Fail = (name: string, expected: string, actual: unknown) => FindthisError;

/** The error factory for configuration keys and environment overrides. */
export function invalidConfig(name: string, expected: string, actual: unknown): FindthisError {
  return new FindthisError('INVALID_CONFIG', `Expected ${expected} for ${name}, but got ${describeValue(actual)}`);
}

export function checkInteger(name: string, value: unknown, min: number, max: number, fail: Fail = invalidParameter): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(name, `an integer in ${min}..${max}`, value);
  }
  return value;
}

export function checkNumber(name: string, value: unknown, min: number, max: number, fail: Fail = invalidParameter): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw fail(name, `a number in ${min}..${max}`, value);
  }
  return value;
}

export function checkString(name: string, value: unknown, pattern: RegExp, expected: string, fail: Fail = invalidParameter): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw fail(name, expected, value);
  return value;
}

export function checkOneOf<const T extends string>(name: string, value: unknown, allowed: readonly T[], fail: Fail = invalidParameter): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw fail(name, `one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

export function checkBoolean(name: string, value: unknown, fail: Fail = invalidParameter): boolean {
  if (typeof value !== 'boolean') throw fail(name, 'true or false', value);
  return value;
}

export function checkStringArray(name: string, value: unknown, fail: Fail = invalidParameter): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw fail(name, 'an array of strings', value);
  }
  return [...value] as string[];
}

/** Text as it comes from a query string, an env variable or a flag → integer, then range-checked. */
export function parseInteger(name: string, raw: unknown, min: number, max: number, fail: Fail = invalidParameter): number {
  const value = typeof raw === 'string' && /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) throw fail(name, `an integer in ${min}..${max}`, raw);
  return value;
}

/**
 * Text → finite number, then range-checked. Decimal notation only (`0.5`, `-1`, `.25`): `Number()`
 * alone would also take `0x1`, `0b1`, `1e0` and `Infinity`, none of which a caller means by a score.
 */
export function parseNumber(name: string, raw: unknown, min: number, max: number, fail: Fail = invalidParameter): number {
  const value = typeof raw === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < min || value > max) throw fail(name, `a number in ${min}..${max}`, raw);
  return value;
}

/** Text → boolean: `true`/`false`/`1`/`0`. */
export function parseBoolean(name: string, raw: unknown, fail: Fail = invalidParameter): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw fail(name, 'true or false', raw);
}
