/**
 * Worker threads for CPU-heavy work that must not stall the service's event loop (model runs,
 * whitening). Node 20 does not apply `--import` loaders to a worker's entry module, and findthis
 * runs as TypeScript through tsx (npm start) or vitest, so a worker starts from a line of JavaScript
 * that loads its module through tsx's API.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { ERRORS, FindthisError } from './errors.js';

/** Starts a worker thread running the module at `moduleUrl` (pass `import.meta.url`). */
export function startModuleWorker(moduleUrl: string, workerData: unknown, transferList: readonly TransferListItem[] = []): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const self = JSON.stringify(moduleUrl);
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${self}, ${self}))`;
  return new Worker(bootstrap, { eval: true, workerData, transferList: [...transferList] });
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
