/**
 * The detector on a worker thread of its own, behind the same `Detector` interface, so that an
 * extraction runs it beside the encoder's run on the whole photo instead of before it (onnxruntime-node
 * runs a session on its caller's thread). On one intra-op thread YOLOX-Nano costs a quarter less CPU
 * than on two, and overlapped it no longer adds its time to the search's (docs/design.md, "The
 * detector beside the encoder").
 */
import { serveRequests, startRequestWorker } from '../core/request-worker.js';
import type { RawImage } from '../imaging/decode.js';
import { createDetector, type DetectionResult, type Detector } from './detector.js';
import type { DetectorOptions } from './options.js';

const TASK = 'detector';

interface DetectorThreadData {
  task: typeof TASK;
  options: DetectorOptions;
  context: { modelsDir?: string };
}

type Ready = Pick<Detector, 'model' | 'format' | 'inputSize' | 'flexibleInput'> & { classNames: string[] };

/** Loads the detector on a worker thread; resolves once it is loaded (or rejects with the load error). */
export async function createDetectorThread(options: DetectorOptions, context: { modelsDir?: string } = {}): Promise<Detector> {
  const data: DetectorThreadData = { task: TASK, options, context };
  const worker = await startRequestWorker<Ready, RawImage, DetectionResult>(import.meta.url, data, 'detector');
  const { model, format, classNames, inputSize, flexibleInput } = worker.ready;
  return {
    model,
    format,
    classNames,
    inputSize,
    flexibleInput,
    isHealthy: () => worker.healthy(),
    detect(image) {
      // A copy is posted: the caller goes on encoding the same pixels meanwhile.
      const copy = new Uint8Array(image.data);
      return worker.request({ data: copy, width: image.width, height: image.height }, [copy.buffer]);
    },
    close: () => worker.close(),
  };
}

serveRequests<DetectorThreadData, Ready, RawImage, DetectionResult>(TASK, async ({ options, context }) => {
  const detector = await createDetector(options, context);
  const { model, format, inputSize, flexibleInput } = detector;
  return {
    ready: { model, format, inputSize, flexibleInput, classNames: [...detector.classNames] },
    answer: async (image) => ({ body: await detector.detect(image) }),
    close: () => detector.close(),
  };
});
