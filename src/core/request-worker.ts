/**
 * A long-lived worker thread that loads something once (model sessions) and then answers requests by
 * id, in any order, plus one-way notes. The extractor thread and the detector thread are both this.
 * A worker that crashes or exits unasked fails every waiting request and every later one with
 * NOT_READY, and says so through `healthy()`, so the service can report it and be restarted.
 */
import { isMainThread, parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { FindthisError } from './errors.js';
import { reviveError, serializeError, startModuleWorker, type SerializedError } from './worker.js';

type ToWorker<Request, Note> = { type: 'request'; id: number; body: Request } | { type: 'note'; body: Note } | { type: 'close' };

type FromWorker<Ready, Answer> =
  | { type: 'ready'; body: Ready }
  | { type: 'failed'; error: SerializedError }
  | { type: 'answer'; id: number; body: Answer }
  | { type: 'rejected'; id: number; error: SerializedError }
  | { type: 'closed' };

/** The main thread's handle on a started request worker. */
export interface RequestWorker<Ready, Request, Answer, Note> {
  /** What the worker said once loaded. */
  readonly ready: Ready;
  /** Sends `body` (transferring `transfer`) and resolves with the worker's answer to it. */
  request(body: Request, transfer?: readonly TransferListItem[]): Promise<Answer>;
  /** A one-way message; messages arrive in order, so every later request sees it. */
  notify(body: Note): void;
  /** False once the worker has stopped (closed, crashed or exited). */
  healthy(): boolean;
  /** Fails waiting requests with NOT_READY, lets the worker close what it loaded, and resolves once it has. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the module at `moduleUrl` (pass `import.meta.url`) on a worker thread with `data`, which must
 * carry a `task` the module recognises (see serveRequests). Resolves once it is ready; rejects with
 * its load error. `label` names it in errors ("the extractor thread stopped ...").
 */
export function startRequestWorker<Ready, Request, Answer, Note = never>(moduleUrl: string, data: { task: string }, label: string): Promise<RequestWorker<Ready, Request, Answer, Note>> {
  const worker = startModuleWorker(moduleUrl, data);
  const pending = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let closing: Promise<void> | undefined;
  let closed: (() => void) | undefined;
  const failAll = (error: Error) => {
    failure = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const post = (message: ToWorker<Request, Note>, transfer: readonly TransferListItem[] = []) => worker.postMessage(message, [...transfer]);

  return new Promise((resolve, reject) => {
    worker.on('message', (message: FromWorker<Ready, Answer>) => {
      switch (message.type) {
        case 'ready':
          resolve({
            ready: message.body,
            healthy: () => failure === undefined,
            notify(body) {
              if (!failure) post({ type: 'note', body });
            },
            request(body, transfer = []) {
              if (failure) return Promise.reject(failure);
              const id = nextId++;
              return new Promise<Answer>((resolveAnswer, rejectAnswer) => {
                pending.set(id, { resolve: resolveAnswer, reject: rejectAnswer });
                post({ type: 'request', id, body }, transfer);
              });
            },
            close() {
              closing ??= failure
                ? Promise.resolve()
                : new Promise<void>((resolveClose) => {
                    closed = resolveClose;
                    failAll(new FindthisError('NOT_READY', `The ${label} is closing`));
                    post({ type: 'close' });
                  });
              return closing;
            },
          });
          break;
        case 'failed':
          reject(reviveError(message.error));
          break;
        case 'answer':
          pending.get(message.id)?.resolve(message.body);
          pending.delete(message.id);
          break;
        case 'rejected':
          pending.get(message.id)?.reject(reviveError(message.error));
          pending.delete(message.id);
          break;
        case 'closed':
          closed?.();
          break;
      }
    });
    const stopped = (why: string) => {
      const error = new FindthisError('NOT_READY', `The ${label} thread stopped (${why}); the service needs a restart`);
      failAll(error);
      reject(error);
    };
    worker.on('error', (error) => stopped(error.message));
    worker.on('exit', (code) => {
      // Any exit not asked for stops it, code 0 included: waiting callers would otherwise wait forever.
      if (!closing) stopped(`exit code ${code}`);
      closed?.();
    });
  });
}

/** What a request worker's module serves, once `open` has loaded it. */
export interface RequestServer<Ready, Request, Answer, Note> {
  ready: Ready;
  /** Answers one request; the buffers in `transfer` are moved, not copied, to the main thread. */
  answer(body: Request): Promise<{ body: Answer; transfer?: TransferListItem[] }>;
  note?(body: Note): void;
  close(): Promise<void>;
}

/**
 * In the module startRequestWorker runs: when this thread is a worker started for `task`, opens the
 * server (posting its load error instead, if it throws) and answers requests until asked to close.
 */
export function serveRequests<Data extends { task: string }, Ready, Request, Answer, Note = never>(
  task: string,
  open: (data: Data) => Promise<RequestServer<Ready, Request, Answer, Note>>,
): void {
  if (isMainThread || (workerData as Data | undefined)?.task !== task) return;
  const port = parentPort!;
  const post = (message: FromWorker<Ready, Answer>, transfer: readonly TransferListItem[] = []) => port.postMessage(message, [...transfer]);
  open(workerData as Data).then(
    (server) => {
      post({ type: 'ready', body: server.ready });
      port.on('message', (message: ToWorker<Request, Note>) => {
        if (message.type === 'close') {
          void server.close().then(() => {
            post({ type: 'closed' });
            port.close();
          });
        } else if (message.type === 'note') {
          server.note?.(message.body);
        } else {
          server.answer(message.body).then(
            ({ body, transfer }) => post({ type: 'answer', id: message.id, body }, transfer),
            (error: unknown) => post({ type: 'rejected', id: message.id, error: serializeError(error) }),
          );
        }
      });
    },
    (error: unknown) => post({ type: 'failed', error: serializeError(error) }),
  );
}
