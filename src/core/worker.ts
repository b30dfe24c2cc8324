/**
 * Worker threads for CPU-heavy work that must not stall the service's event loop (model runs,
 * whitening, index builds). Node 20 does not apply `--import` loaders to a worker's entry module, and findthis
 * runs as TypeScript through tsx (npm start) or vitest, so a worker starts from a line of JavaScript
 * that loads its module through tsx's API.
 */
import { Worker, parentPort, type TransferListItem } from 'node:worker_threads';
import { ERRORS, FindthisError } from './errors.js';

/** Starts a worker thread running the module at `moduleUrl` (pass `import.meta.url`). */
export function startModuleWorker(moduleUrl: string, workerData: unknown, transferList: readonly TransferListItem[] = []): Worker {
  const tsxApi = withoutTsxNamespace(import.meta.resolve('tsx/esm/api'));
  const self = JSON.stringify(withoutTsxNamespace(moduleUrl));
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${self}, ${self}))`;
  return new Worker(bootstrap, { eval: true, workerData, transferList: [...transferList] });
}

/**
 * A module loaded through tsImport (in a worker) has its loader's namespace in its URL; a worker it
 * starts registers a namespace of its own, and under the old one its TypeScript would go untransformed.
 */
function withoutTsxNamespace(url: string): string {
  const plain = new URL(url);
  plain.searchParams.delete('tsx-namespace');
  return plain.href;
}

/** An error as it can cross a thread boundary. */
export interface SerializedError {
  message: string;
  code?: string;
}

export function serializeError(error: unknown): SerializedError {
  const { message, code } = error as Error & { code?: unknown };
  return typeof code === 'string' ? { message: String(message), code } : { message: String(message ?? error) };
}

/** A FindthisError again when it was one, else a plain Error. */
export function reviveError({ message, code }: SerializedError): Error {
  return code !== undefined && code in ERRORS ? new FindthisError(code as keyof typeof ERRORS, message) : new Error(message);
}

/** What a one-shot worker posts back: its result, or the error it caught. */
type WorkerReply<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

/**
 * Runs the module at `moduleUrl` (pass `import.meta.url`) on a worker thread for one request, which it
 * answers with `replyFromWorker`. Resolves with its value; rejects with the error it caught (a
 * FindthisError again when it was one), with its crash, or when it exits without replying (even
 * with code 0, e.g. a module that did not recognise its request), so a caller never waits forever.
 */
export function runModuleWorker<T>(moduleUrl: string, workerData: unknown, transferList: readonly TransferListItem[], label: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(moduleUrl, workerData, transferList);
    worker.once('message', (reply: WorkerReply<T>) => (reply.ok ? resolve(reply.value) : reject(reviveError(reply.error))));
    worker.once('error', reject);
    // A worker's messages are delivered before its 'exit' event, so after a reply this reject is a no-op.
    worker.once('exit', (code) => reject(new Error(`${label} worker exited with code ${code} without replying`)));
  });
}

/** In a worker started by runModuleWorker: posts what `serve` returns (transferring `transfer(value)`), or the error it throws. */
export async function replyFromWorker<T>(serve: () => T | Promise<T>, transfer: (value: T) => TransferListItem[] = () => []): Promise<void> {
  let reply: WorkerReply<T>;
  let transferList: TransferListItem[] = [];
  try {
    const value = await serve();
    reply = { ok: true, value };
    transferList = transfer(value);
  } catch (error) {
    reply = { ok: false, error: serializeError(error) };
  }
  parentPort?.postMessage(reply, transferList);
}
