/**
 * Request fields checked by ajv against the API's JSON Schemas (schemas.ts), the same schemas the
 * OpenAPI document is generated from. Raw text is turned into numbers and booleans first (decimal
 * notation only: `1e2`, `0x10` and `Infinity` stay text and fail as such), absent values take the schema's
 * default, and a failure becomes 400 INVALID_FIELD in the house style: "Expected an integer in
 * 1..100 for k, but got "0"", naming the field and repeating what came as it came.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { invalidParameter } from '../core/errors.js';

const ajv = new Ajv2020({ useDefaults: true, strict: true });

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** Integers are written without a fraction: `5.0` for k is a mistake worth a 400, not a 5. */
const INTEGER = /^[+-]?\d+$/;

interface SchemaFacts {
  type?: string;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  title?: string;
  description?: string;
}

/** What a value of this schema looks like, in words. */
export function describeSchema(schema: SchemaFacts): string {
  if (schema.enum) return `one of ${schema.enum.join(', ')}`;
  if (schema.type === 'integer') return `an integer in ${schema.minimum}..${schema.maximum}`;
  if (schema.type === 'number') return `a number in ${schema.minimum}..${schema.maximum}`;
  if (schema.type === 'boolean') return 'true or false';
  return schema.title ?? schema.description ?? `a ${schema.type ?? 'value'}`;
}

/** Text as it comes from a query string or a form field → the schema's type, when it is that type's notation. */
function fromText(raw: unknown, schema: SchemaFacts): unknown {
  if (typeof raw !== 'string') return raw;
  if (schema.type === 'integer' && INTEGER.test(raw.trim())) return Number(raw);
  if (schema.type === 'number' && DECIMAL.test(raw.trim())) return Number(raw);
  if (schema.type === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  return raw;
}

/**
 * A checker for one request part (`query parameter`, `field`, `path parameter`): takes the raw
 * key → text object, returns the typed values with defaults filled in, or throws INVALID_FIELD.
 */
export function fieldsValidator<T extends TObject>(schema: T, part: string): (raw: unknown) => Static<T> {
  const validate = ajv.compile(schema);
  const properties = schema.properties as Record<string, TSchema & SchemaFacts>;
  return (raw) => {
    const given = { ...(raw as Record<string, unknown> | undefined) };
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(given)) {
      if (value !== undefined) values[key] = properties[key] ? fromText(value, properties[key]) : value;
    }
    if (validate(values)) return values as Static<T>;
    throw toFieldError(validate.errors?.[0], properties, given, part);
  };
}

function toFieldError(error: ErrorObject | undefined, properties: Record<string, SchemaFacts>, given: Record<string, unknown>, part: string) {
  if (error?.keyword === 'additionalProperties') {
    return invalidParameter(part, `one of ${Object.keys(properties).join(', ')}`, (error.params as { additionalProperty: string }).additionalProperty);
  }
  const name = error?.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : (error?.instancePath.split('/')[1] ?? part);
  return invalidParameter(name, describeSchema(properties[name] ?? {}), given[name]);
}
