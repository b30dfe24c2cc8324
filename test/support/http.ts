/** Small fetch helpers for driving the real service over HTTP. */
import { readFileSync } from 'node:fs';

export interface JsonAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function request<T = any>(url: string, init?: RequestInit): Promise<JsonAnswer<T>> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(text);
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
