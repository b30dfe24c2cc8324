/**
 * Several extractor threads behind one `Extractor`. onnxruntime-node runs a session synchronously on
 * the thread that calls it, and decoding, resizing and pooling are JavaScript on that same thread:
 * one extractor thread encodes for one extraction at a time (only its detector runs beside, on a
 * thread of its own), and its JavaScript stages leave the second core idle however many intra-op
 * threads the encoder has. N threads (each with its own sessions)
 * run N extractions at once; each new extraction goes to the thread with the fewest in flight.
 */
import { createExtractorThread } from './extractor-thread.js';
import type { Extractor, ExtractorContext, ExtractorOptions } from './extractor.js';

/** Starts `threads` extractor threads (1..64); resolves once all have loaded their models. */
export async function createExtractorPool(threads: number, options: ExtractorOptions, context: ExtractorContext = {}): Promise<Extractor> {
  if (threads === 1) return createExtractorThread(options, context);
  const started = await Promise.allSettled(Array.from({ length: threads }, () => createExtractorThread(options, context)));
  const members = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(members.map((member) => member.close()));
    throw failed.reason;
  }
  const inFlight = members.map(() => 0);
  const [first] = members as [Extractor, ...Extractor[]];
  return {
    encoder: first.encoder,
    classNames: first.classNames,
    // One dead thread makes the whole pool unhealthy: /healthz turns 503 and a supervisor restarts it.
    isHealthy: () => members.every((member) => member.isHealthy?.() ?? true),
    setReference(reference) {
      for (const member of members) member.setReference(reference);
    },
    async extract(image, purpose) {
      const chosen = inFlight.indexOf(Math.min(...inFlight));
      inFlight[chosen]! += 1;
      try {
        return await members[chosen]!.extract(image, purpose);
      } finally {
        inFlight[chosen]! -= 1;
      }
    },
    async close() {
      await Promise.all(members.map((member) => member.close()));
    },
  };
}
