/**
 * The extractor on its own worker thread, behind the same `Extractor` interface. onnxruntime-node
 * runs a session on the calling thread, and decoding, resizing and pooling are JavaScript loops: on
 * the service's main thread one extraction held the event loop for tens of milliseconds, so /healthz,
 * /metrics and request parsing waited behind every model run. Here the main thread only posts the
 * image bytes and receives the vectors.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FindthisError } from '../core/errors.js';
import { reviveError, serializeError, startModuleWorker, type SerializedError } from '../core/worker.js';
import { createExtractor, type EncoderMeta, type Extraction, type ExtractionPurpose, type Extractor, type ExtractorContext, type ExtractorOptions, type ProductReference } from './extractor.js';
import { bytesOf } from '../core/bytes.js';

interface ExtractorThreadData {
  task: 'extractor';
  options: ExtractorOptions;
  context: ExtractorContext;
}

type FromWorker =
  | { type: 'ready'; encoder: EncoderMeta; classNames: string[] }
  | { type: 'failed'; error: SerializedError }
  | { type: 'extracted'; id: number; extraction: Extraction }
  | { type: 'rejected'; id: number; error: SerializedError }
  | { type: 'closed' };

type ToWorker =
  | { type: 'extract'; id: number; image: Uint8Array; purpose: ExtractionPurpose }
  | { type: 'reference'; reference: ProductReference | null }
  | { type: 'close' };

/** Loads both models on a worker thread; resolves once they are loaded (or rejects with the load error). */
export function createExtractorThread(options: ExtractorOptions, context: ExtractorContext = {}): Promise<Extractor> {
  const data: ExtractorThreadData = { task: 'extractor', options, context };
  const worker = startModuleWorker(import.meta.url, data);
  const pending = new Map<number, { resolve: (extraction: Extraction) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let closed: (() => void) | undefined;
  let failure: Error | undefined;

  const failAll = (error: Error) => {
    failure = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  let closing: Promise<void> | undefined;

  return new Promise((resolve, reject) => {
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          resolve({
            encoder: message.encoder,
            classNames: message.classNames,
            isHealthy: () => failure === undefined,
            setReference(reference) {
              // Messages arrive in order: every later extract() sees this reference.
              if (!failure) worker.postMessage({ type: 'reference', reference } satisfies ToWorker);
            },
            extract(image, purpose = 'catalog') {
              if (failure) return Promise.reject(failure);
              const id = nextId++;
              // A copy is posted: the caller keeps its buffer (ingest hashes it afterwards).
              const copy = new Uint8Array(image);
              const request: ToWorker = { type: 'extract', id, image: copy, purpose };
              return new Promise<Extraction>((resolveExtraction, rejectExtraction) => {
                pending.set(id, { resolve: resolveExtraction, reject: rejectExtraction });
                worker.postMessage(request, [copy.buffer]);
              });
            },
            close() {
              closing ??= failure
                ? Promise.resolve()
                : new Promise<void>((resolveClose) => {
                    closed = resolveClose;
                    failAll(new FindthisError('NOT_READY', 'The extractor is closing'));
                    worker.postMessage({ type: 'close' } satisfies ToWorker);
                  });
              return closing;
            },
          });
          break;
        case 'failed':
          reject(reviveError(message.error));
          break;
        case 'extracted':
          pending.get(message.id)?.resolve(message.extraction);
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
      // Requests now get 503 and /healthz turns 503 (isHealthy), so a supervisor restarts the service.
      const error = new FindthisError('NOT_READY', `The extractor thread stopped (${why}); the service needs a restart`);
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

async function serveExtractor({ options, context }: ExtractorThreadData): Promise<void> {
  const port = parentPort!;
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  let extractor: Extractor;
  try {
    extractor = await createExtractor(options, context);
  } catch (error) {
    post({ type: 'failed', error: serializeError(error) });
    return;
  }
  post({ type: 'ready', encoder: extractor.encoder, classNames: [...extractor.classNames] });
  port.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      void extractor.close().then(() => {
        post({ type: 'closed' });
        port.close();
      });
      return;
    }
    if (message.type === 'reference') {
      extractor.setReference(message.reference);
      return;
    }
    const image = bytesOf(message.image);
    extractor.extract(image, message.purpose).then(
      (extraction) => post({ type: 'extracted', id: message.id, extraction }, [...new Set(extraction.objects.map((object) => object.vector.buffer as ArrayBuffer))]),
      (error: unknown) => post({ type: 'rejected', id: message.id, error: serializeError(error) }),
    );
  });
}

if (!isMainThread && (workerData as ExtractorThreadData | undefined)?.task === 'extractor') {
  void serveExtractor(workerData as ExtractorThreadData);
}
