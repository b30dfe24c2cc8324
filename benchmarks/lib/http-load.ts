/** Closed-loop HTTP load on a running service (searches and ingests), and the CPU it costs, for bench:http. */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/load.js';
import { createEncoder } from '../../src/embedding/encoder.js';
import { decodeImage } from '../../src/imaging/decode.js';
import { wholeImage } from '../../src/imaging/resize.js';
import { percentileOfSorted } from './percentiles.js';

export interface Photo {
  bytes: Buffer;
  product: string;
}

export interface ServerTimings {
  decodeMs: number;
  detectMs: number;
  embedMs: number;
  searchMs: number;
  totalMs: number;
}

/** One answered request: client-side ms, and for a 2xx search the server's timings. */
export interface Outcome {
  ms: number;
  status: number;
  /** The error code of a non-2xx answer (or the fetch failure). */
  error?: string;
  server?: ServerTimings;
  matchedRight?: boolean;
}

/** One closed-loop load: every outcome, the wall time and the CPU both processes used meanwhile. */
export interface LoadResult {
  outcomes: Outcome[];
  seconds: number;
  /** CPU ms the service process used (all its threads), from /proc/<pid>/stat. */
  serverCpuMs: number;
  /** CPU ms this (client) process used. */
  clientCpuMs: number;
}

export function imageForm(bytes: Buffer, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append('image', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
  return form;
}

export function readPhotos(list: Array<[path: string, product: string]>): Photo[] {
  return list.map(([path, product]) => ({ bytes: readFileSync(path), product }));
}

/** User + system CPU ms of a process (all threads) so far; Linux only. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux ABI Node supports
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

async function send(url: string, body: FormData): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', body });
  return { status: response.status, json: await response.json() };
}

async function timed(request: () => Promise<{ status: number; json: unknown }>, ok: number): Promise<Outcome & { json?: unknown }> {
  const started = performance.now();
  try {
    const { status, json } = await request();
    const ms = performance.now() - started;
    if (status === ok) return { ms, status, json };
    return { ms, status, error: (json as { error?: { code?: string } }).error?.code ?? String(status) };
  } catch (error) {
    return { ms: performance.now() - started, status: 0, error: (error as Error).message };
  }
}

export async function searchOnce(url: string, index: string, photo: Photo): Promise<Outcome> {
  const outcome = await timed(() => send(`${url}/v1/search?k=5&index=${index}`, imageForm(photo.bytes)), 200);
  if (outcome.error) return outcome;
  const body = outcome.json as { timings: ServerTimings; objects: Array<{ matches: Array<{ productId: string }> }> };
  return { ms: outcome.ms, status: outcome.status, server: body.timings, matchedRight: body.objects[0]?.matches[0]?.productId === photo.product };
}

export async function ingestOnce(url: string, photo: Photo): Promise<Outcome> {
  const { ms, status, error } = await timed(() => send(`${url}/v1/products`, imageForm(photo.bytes, { id: photo.product })), 201);
  return error ? { ms, status, error } : { ms, status };
}

/** `requests` calls of `call(i)` from `clients` concurrent loops; the service's and this process's CPU meanwhile. */
export async function closedLoop(pid: number, requests: number, clients: number, call: (i: number) => Promise<Outcome>): Promise<LoadResult> {
  let next = 0;
  const outcomes: Outcome[] = [];
  const serverCpu = processCpuMs(pid);
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < requests; i = next++) outcomes.push(await call(i));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientCpu);
  return { outcomes, seconds, serverCpuMs: processCpuMs(pid) - serverCpu, clientCpuMs: (client.user + client.system) / 1000 };
}

export function percentile(values: number[], p: number): number {
  return percentileOfSorted(Float64Array.from(values).sort(), p);
}

/** The figures of one load: latency percentiles of all requests, throughput of the answered ones, CPU per request. */
export interface LoadFigures {
  p50: number;
  p95: number;
  p99: number;
  /** 2xx answers per second of wall time. */
  rps: number;
  errors: number;
  errorCodes: string[];
  serverCpuMsPerRequest: number;
  clientCpuMsPerRequest: number;
}

export function loadFigures({ outcomes, seconds, serverCpuMs, clientCpuMs }: LoadResult): LoadFigures {
  const ms = outcomes.map((o) => o.ms);
  const failed = outcomes.filter((o) => o.error !== undefined);
  return {
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    rps: (outcomes.length - failed.length) / seconds,
    errors: failed.length,
    errorCodes: [...new Set(failed.map((o) => o.error!))],
    serverCpuMsPerRequest: serverCpuMs / outcomes.length,
    clientCpuMsPerRequest: clientCpuMs / outcomes.length,
  };
}

/** Median of each figure over runs (errors summed). */
export function medianFigures(runs: LoadFigures[]): LoadFigures {
  const median = (pick: (f: LoadFigures) => number) => percentile(runs.map(pick), 50);
  return {
    p50: median((f) => f.p50),
    p95: median((f) => f.p95),
    p99: median((f) => f.p99),
    rps: median((f) => f.rps),
    errors: runs.reduce((sum, f) => sum + f.errors, 0),
    errorCodes: [...new Set(runs.flatMap((f) => f.errorCodes))],
    serverCpuMsPerRequest: median((f) => f.serverCpuMsPerRequest),
    clientCpuMsPerRequest: median((f) => f.clientCpuMsPerRequest),
  };
}

/**
 * CPU ms of one single-crop encoder run (1 intra-op thread, the configured encoder), the mean of
 * `runs`: a yardstick measured beside the load, since this shared host's speed (CPU time per unit of
 * work included) varies several-fold with its load. Requests' CPU divided by it is load-independent.
 */
export async function referenceCropCpuMs(photo: Buffer, runs = 30): Promise<number> {
  const config = loadConfig({ env: {} });
  const encoder = await createEncoder({ ...config.extractor.encoder, threads: 1 });
  try {
    const image = await decodeImage(photo, config.extractor.maxPixels, config.extractor.maxDecodeSide);
    await encoder.encode(image, [wholeImage(image)]);
    const before = process.cpuUsage();
    for (let i = 0; i < runs; i += 1) await encoder.encode(image, [wholeImage(image)]);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / runs;
  } finally {
    await encoder.close();
  }
}
