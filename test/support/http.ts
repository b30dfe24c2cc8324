/**
 * Small fetch helpers for driving the real service over HTTP. Every answer they receive is checked
 * against the OpenAPI document the same server publishes at /openapi.json (operation by method +
 * path, then the response by status): an undocumented status, or a JSON body its schema refuses,
 * fails the test that made the request, so the document and the service cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

export interface JsonAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function request<T = any>(url: string, init?: RequestInit): Promise<JsonAnswer<T>> {
  const { origin, pathname } = new URL(url);
  const document = await documentOf(origin); // before the request, so that its own log line comes first
  const response = await fetch(url, init);
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (contentType.includes('application/json')) body = JSON.parse(text);
  checkAgainstDocument(document, init?.method ?? 'GET', pathname, response.status, contentType, body);
  return { status: response.status, body: body as T, headers: response.headers };
}

/** multipart/form-data with text fields and an optional file in field `image`. */
export function form(fields: Record<string, string>, file?: { bytes: Uint8Array; name: string; type?: string }): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.append(key, value);
  if (file) data.append('image', new Blob([file.bytes], { type: file.type ?? 'image/jpeg' }), file.name);
  return data;
}

function imageFile(path: string): { bytes: Uint8Array; name: string } {
  return { bytes: readFileSync(path), name: path.split('/').pop() as string };
}

export async function postImage<T = any>(url: string, path: string | Uint8Array, fields: Record<string, string> = {}): Promise<JsonAnswer<T>> {
  const file = typeof path === 'string' ? imageFile(path) : { bytes: path, name: 'upload.jpg' };
  return request<T>(url, { method: 'POST', body: form(fields, file) });
}

// ---- the OpenAPI check -------------------------------------------------------------------------

type Schema = Record<string, unknown>;
interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
  components: { schemas: Record<string, Schema> };
}

const documents = new Map<string, Promise<OpenApiDocument>>();

/** The server's own document, fetched once per origin. */
function documentOf(origin: string): Promise<OpenApiDocument> {
  let document = documents.get(origin);
  if (!document) {
    document = fetch(`${origin}/openapi.json`).then(async (answer) => {
      if (answer.status !== 200) throw new Error(`${origin}/openapi.json answered ${answer.status}`);
      return (await answer.json()) as OpenApiDocument;
    });
    documents.set(origin, document);
  }
  return document;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validators = new WeakMap<Schema, ValidateFunction>();

/** Throws unless the answer is one the document describes for this method, path and status. */
export function checkAgainstDocument(document: OpenApiDocument, method: string, path: string, status: number, contentType: string, body: unknown): void {
  const where = `${method.toUpperCase()} ${path} → ${status}`;
  // The most specific path first: /healthz before /{file}.
  const template = Object.keys(document.paths)
    .filter((candidate) => templateRegExp(candidate).test(path) && document.paths[candidate]?.[method.toLowerCase()])
    .sort((a, b) => a.split('{').length - b.split('{').length)[0];
  if (!template) {
    // Routes that do not exist answer 404 NOT_FOUND; CORS preflights are answered by the cors middleware.
    if (method.toUpperCase() === 'OPTIONS') return;
    if (status !== 404) throw new Error(`${where}: no operation in the OpenAPI document for this method and path`);
    validate(document, { $ref: '#/components/schemas/ErrorResponse' }, body, where);
    return;
  }
  const response = document.paths[template]?.[method.toLowerCase()]?.responses[String(status)];
  if (!response) throw new Error(`${where}: status ${status} is not documented for ${method.toUpperCase()} ${template}`);
  const json = response.content?.['application/json'];
  if (contentType.includes('application/json')) {
    if (!json) throw new Error(`${where}: answered JSON, but the document says ${Object.keys(response.content ?? {}).join(', ') || 'no body'}`);
    validate(document, json.schema, body, where);
  } else if (json) {
    throw new Error(`${where}: the document promises JSON, but the answer is ${contentType || 'without a body'}`);
  }
}

function templateRegExp(template: string): RegExp {
  const pattern = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+');
  return new RegExp(`^${pattern}$`);
}

/** The schema with every `#/components/schemas/...` reference replaced by the schema it names. */
function inlined(document: OpenApiDocument, node: unknown): unknown {
  if (Array.isArray(node)) return node.map((item) => inlined(document, item));
  if (typeof node !== 'object' || node === null) return node;
  const { $ref } = node as Schema;
  if (typeof $ref === 'string') {
    const name = /^#\/components\/schemas\/(\w+)$/.exec($ref)?.[1];
    const target = name === undefined ? undefined : document.components.schemas[name];
    if (!target) throw new Error(`the OpenAPI document has no schema ${$ref}`);
    return inlined(document, target);
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, inlined(document, value)]));
}

function validate(document: OpenApiDocument, schema: Schema, body: unknown, where: string): void {
  const ref = typeof schema.$ref === 'string' ? schema.$ref.split('/').pop() : undefined;
  let check = validators.get(schema);
  if (!check) {
    check = ajv.compile(inlined(document, schema) as Schema);
    validators.set(schema, check);
  }
  if (!check(body)) {
    throw new Error(`${where}: the answer does not match ${ref ?? 'its schema'}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}
