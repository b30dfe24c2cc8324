/**
 * The extractor on its own worker thread, behind the same `Extractor` interface. onnxruntime-node
 * runs a session on the calling thread, and decoding, resizing and pooling are JavaScript loops: on
 * the service's main thread one extraction held the event loop for tens of milliseconds, so /healthz,
 * /metrics and request parsing waited behind every model run. Here the main thread only posts the
 * image bytes and receives the vectors.
 */
import { serveRequests, startRequestWorker } from '../core/request-worker.js';
import { createExtractor, type EncoderMeta, type Extraction, type ExtractionPurpose, type Extractor, type ExtractorContext, type ExtractorOptions, type ProductReference } from './extractor.js';
import { bytesOf } from '../core/bytes.js';

const TASK = 'extractor';

interface ExtractorThreadData {
  task: typeof TASK;
  options: ExtractorOptions;
  context: ExtractorContext;
}

type Ready = { encoder: EncoderMeta; classNames: string[] };
type Request = { image: Uint8Array; purpose: ExtractionPurpose };
type Note = { reference: ProductReference | null };

/** Loads both models on a worker thread; resolves once they are loaded (or rejects with the load error). */
export async function createExtractorThread(options: ExtractorOptions, context: ExtractorContext = {}): Promise<Extractor> {
  const data: ExtractorThreadData = { task: TASK, options, context };
  const worker = await startRequestWorker<Ready, Request, Extraction, Note>(import.meta.url, data, 'extractor');
  return {
    encoder: worker.ready.encoder,
    classNames: worker.ready.classNames,
    isHealthy: () => worker.healthy(),
    setReference(reference) {
      worker.notify({ reference });
    },
    extract(image, purpose = 'catalog') {
      // A copy is posted: the caller keeps its buffer (ingest hashes it afterwards).
      const copy = new Uint8Array(image);
      return worker.request({ image: copy, purpose }, [copy.buffer]);
    },
    close: () => worker.close(),
  };
}

serveRequests<ExtractorThreadData, Ready, Request, Extraction, Note>(TASK, async ({ options, context }) => {
  const extractor = await createExtractor(options, context);
  return {
    ready: { encoder: extractor.encoder, classNames: [...extractor.classNames] },
    note: ({ reference }) => extractor.setReference(reference),
    async answer({ image, purpose }) {
      try {
        const extraction = await extractor.extract(bytesOf(image), purpose);
        return { body: extraction, transfer: [...new Set(extraction.objects.map((object) => object.vector.buffer as ArrayBuffer))] };
      } catch (error) {
        // Its detector's thread stopped: this thread can extract no more, and ends, so the pool says so.
        if (extractor.isHealthy?.() === false) setImmediate(() => process.exit(1));
        throw error;
      }
    },
    close: () => extractor.close(),
  };
});
