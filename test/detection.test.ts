import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOutput, decodeYolov5, decodeYolov8, decodeYolox, recogniseFormat, type Candidate } from '../src/detection/decoders.js';
import { classFilter, createDetector, toImageBoxes, type Detector } from '../src/detection/detector.js';
import { createDetectorThread } from '../src/detection/detector-thread.js';
import { nms } from '../src/detection/nms.js';
import { DEFAULT_DETECTOR_OPTIONS } from '../src/detection/options.js';
import { decodeImage } from '../src/imaging/decode.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';

const DATASETS = resolve(PROJECT_ROOT, '..', 'shared', 'datasets');
const bananas = readFileSync(resolve(DATASETS, 'grocery', 'val', 'Fruit', 'Banana', 'Banana_001.jpg'));
const livingRoom = readFileSync(resolve(DATASETS, 'coco-sample', '000000000139.jpg'));

function box(x1: number, y1: number, x2: number, y2: number, score: number, classIndex = 0, objectness: number = score): Candidate {
  return { x1, y1, x2, y2, score, classIndex, objectness };
}

describe('output decoders on hand-made tensors', () => {
  it('YOLOv8/YOLO11 [1,4+C,N]: channels first, decoded cx,cy,w,h, class scores without objectness', () => {
    const classes = 3;
    const count = 4;
    const data = new Float32Array((4 + classes) * count).fill(0.01);
    const set = (channel: number, i: number, value: number) => (data[channel * count + i] = value);
    [50, 40, 20, 10].forEach((value, channel) => set(channel, 2, value));
    set(4 + 1, 2, 0.9);
    set(4 + 2, 2, 0.2);
    expect(decodeYolov8({ dims: [1, 4 + classes, count], data }, classes, { score: 0.25 })).toEqual([box(40, 35, 60, 45, expect.closeTo(0.9, 5), 1)]);
  });

  it('YOLOv5 [1,N,5+C]: decoded cx,cy,w,h, objectness × best class score', () => {
    const data = new Float32Array(3 * 7);
    data.set([100, 100, 40, 20, 0.8, 0.1, 0.5], 7);
    data.set([10, 10, 4, 4, 0.2, 0.9, 0.9], 14); // 0.18 < threshold
    expect(decodeYolov5({ dims: [1, 3, 7], data }, 2, { score: 0.25 })).toEqual([box(80, 90, 120, 110, expect.closeTo(0.4, 5), 1, expect.closeTo(0.8, 5))]);
  });

  it('YOLOX raw grid: cx = (tx + gx)·stride, w = exp(tw)·stride, rows by stride then y then x', () => {
    const size = 64;
    const rows = 64 + 16 + 4; // (64/8)² + (64/16)² + (64/32)²
    const data = new Float32Array(rows * 7);
    const row = 64 + 2 * 4 + 1; // stride 16, gy = 2, gx = 1
    data.set([0.5, 0.5, 0, Math.log(2), 0.9, 0.2, 0.8], row * 7);
    const candidates = decodeYolox({ dims: [1, rows, 7], data }, { width: size, height: size }, [8, 16, 32], 2, { score: 0.3 });
    expect(candidates).toHaveLength(1);
    expect(candidates[0]!.classIndex).toBe(1);
    expect(candidates[0]!.score).toBeCloseTo(0.72, 5);
    expect([candidates[0]!.x1, candidates[0]!.y1, candidates[0]!.x2, candidates[0]!.y2].map((v) => Math.round(v * 1000) / 1000)).toEqual([16, 24, 32, 56]);
  });

  it('YOLOX on a rectangular input: each stride grid is W/s columns by H/s rows', () => {
    const input = { width: 64, height: 32 };
    const rows = 8 * 4 + 4 * 2 + 2 * 1;
    const data = new Float32Array(rows * 7);
    const row = 8 * 4 + 1 * 4 + 3; // stride 16 (4 columns × 2 rows), gy = 1, gx = 3
    data.set([0, 0, 0, 0, 0.9, 0.9, 0.1], row * 7);
    const [candidate, ...rest] = decodeYolox({ dims: [1, rows, 7], data }, input, [8, 16, 32], 2, { score: 0.3 });
    expect(rest).toHaveLength(0);
    expect([candidate!.x1, candidate!.y1, candidate!.x2, candidate!.y2]).toEqual([40, 8, 56, 24]); // centre (3·16, 1·16), side 16
    expect(() => decodeYolox({ dims: [1, rows, 7], data }, { width: 64, height: 64 }, [8, 16, 32], 2, { score: 0.3 })).toThrow(
      expect.objectContaining({ code: 'MODEL_INVALID', message: expect.stringContaining('expected 84 for input 64×64') }),
    );
  });

  it('recognises the layout from the output shape', () => {
    expect(recogniseFormat([1, 84, 8400], 640, [8, 16, 32])).toBe('yolov8');
    expect(recogniseFormat([1, 3549, 85], 416, [8, 16, 32])).toBe('yolox');
    expect(recogniseFormat([1, 8400, 85], 640, [8, 16, 32])).toBe('yolox');
    expect(recogniseFormat([1, 25200, 85], 640, [8, 16, 32])).toBe('yolov5');
    expect(() => recogniseFormat([1, 1000], 224, [8, 16, 32])).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });

  it('refuses an output whose class count differs from the manifest', () => {
    const output = { dims: [1, 3, 7], data: new Float32Array(21) };
    expect(() => decodeOutput('yolov5', output, { width: 640, height: 640 }, [], 80, { score: 0.3 })).toThrow(expect.objectContaining({ code: 'MODEL_INVALID', message: expect.stringContaining('2 classes') }));
  });
});

describe('after decoding', () => {
  it('suppresses overlapping boxes of the same class only, best first, up to the maximum', () => {
    const kept = nms([box(0, 0, 10, 10, 0.5), box(1, 1, 11, 11, 0.9), box(1, 1, 11, 11, 0.6, 1), box(50, 50, 60, 60, 0.4)], 0.45, 10);
    expect(kept.map((candidate) => [candidate.score, candidate.classIndex])).toEqual([[0.9, 0], [0.6, 1], [0.4, 0]]);
    expect(nms(kept, 0.45, 2)).toHaveLength(2);
  });

  it('maps letterbox boxes to original pixels, clips them and drops small ones and filtered classes', () => {
    const boxes = toImageBoxes([box(-5, 10, 50, 40, 0.9), box(10, 10, 14, 40, 0.8), box(0, 0, 40, 40, 0.7, 1)], 0.5, 90, 70, 16, (index) => index === 0);
    expect(boxes).toEqual([box(0, 20, 90, 70, 0.9)]);
  });

  it('suppresses across classes and ranks by objectness for class-agnostic proposals', () => {
    const kept = nms([box(0, 0, 10, 10, 0.5, 0, 0.6), box(1, 1, 11, 11, 0.1, 1, 0.9), box(50, 50, 60, 60, 0.4, 2, 0.2)], 0.45, 10, { rankBy: 'objectness', agnostic: true });
    expect(kept.map((candidate) => candidate.objectness)).toEqual([0.9, 0.2]);
  });

  it('keeps a candidate for its objectness alone when asked to, whatever its class score', () => {
    const data = new Float32Array(2 * 7);
    data.set([100, 100, 40, 20, 0.2, 0.1, 0.1], 0); // objectness 0.2, score 0.02: a proposal, not a detection
    data.set([10, 10, 4, 4, 0.04, 0.9, 0.9], 7); // below both
    expect(decodeYolov5({ dims: [1, 2, 7], data }, 2, { score: 0.3 })).toEqual([]);
    expect(decodeYolov5({ dims: [1, 2, 7], data }, 2, { score: 0.3, objectness: 0.05 })).toEqual([box(80, 90, 120, 110, expect.closeTo(0.02, 5), 0, expect.closeTo(0.2, 5))]);
  });

  it('builds a class filter from allow and deny lists, refusing unknown names', () => {
    const keep = classFilter(['person', 'banana', 'apple'], [], ['person']);
    expect([0, 1, 2].map(keep)).toEqual([false, true, true]);
    expect([0, 1, 2].map(classFilter(['person', 'banana', 'apple'], ['apple'], []))).toEqual([false, false, true]);
    expect(() => classFilter(['person'], ['bananna'], [])).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('"bananna"') }));
  });
});

describe('YOLOX-Nano on real photos', () => {
  let detector: Detector;
  let everything: Detector;
  beforeAll(async () => {
    detector = await createDetector(DEFAULT_DETECTOR_OPTIONS);
    everything = await createDetector({ ...DEFAULT_DETECTOR_OPTIONS, classDeny: [] });
  });
  afterAll(async () => {
    await detector.close();
    await everything.close();
  });

  it('reads the shared model as the YOLOX raw grid with the 80 COCO classes', () => {
    expect(detector.format).toBe('yolox');
    expect(detector.classNames).toHaveLength(80);
  });

  it('proposes products that no COCO class names: a carton of oat milk', async () => {
    const carton = readFileSync(resolve(DATASETS, 'grocery', 'val', 'Packages', 'Oat-Milk', 'Oatly-Oat-Milk', 'Oatly-Oat-Milk_001.jpg'));
    const { detections, proposals } = await detector.detect(await decodeImage(carton, 50e6));
    expect(proposals.length).toBeGreaterThan(detections.length);
    const big = proposals.filter(({ bbox: [x1, y1, x2, y2] }) => (x2 - x1) * (y2 - y1) > 0.1 * 348 * 348);
    expect(big.length).toBeGreaterThan(0);
    for (const proposal of proposals) expect(proposal.objectness).toBeGreaterThanOrEqual(DEFAULT_DETECTOR_OPTIONS.proposalObjectness);
  });

  it('finds bananas in a grocery-store banana photo', async () => {
    const { detections } = await detector.detect(await decodeImage(bananas, 50e6));
    expect(detections.length).toBeGreaterThan(0);
    expect(detections[0]!.label).toBe('banana');
  });

  it('runs each photo at the smallest stride-aligned input that holds it, enlarging small ones unless told not to', async () => {
    expect(detector.flexibleInput).toBe(true);
    const banana = await decodeImage(bananas, 50e6); // 348×348: enlarged to 416×416 by default
    expect((await detector.detect(banana)).input).toEqual({ width: 416, height: 416 });
    const room = await decodeImage(livingRoom, 50e6); // 640×426 → 416×277, padded to 416×288
    expect((await detector.detect(room)).input).toEqual({ width: 416, height: 288 });
    const native = await createDetector({ ...DEFAULT_DETECTOR_OPTIONS, upscale: false });
    try {
      const { input, detections } = await native.detect(banana); // kept at its size in a 352×352 input
      expect(input).toEqual({ width: 352, height: 352 });
      expect(detections[0]!.label).toBe('banana');
      expect((await native.detect(room)).input).toEqual({ width: 416, height: 288 });
    } finally {
      await native.close();
    }
  });

  it('finds the tv and the chairs of a living room, and leaves the person out by default', async () => {
    const image = await decodeImage(livingRoom, 50e6);
    const labels = (await detector.detect(image)).detections.map((detection) => detection.label);
    expect(labels).toContain('tvmonitor');
    expect(labels.filter((label) => label === 'chair').length).toBeGreaterThanOrEqual(2);
    expect(labels).not.toContain('person');
    const all = (await everything.detect(image)).detections.map((detection) => detection.label);
    expect(all).toContain('person');
  });

  it('returns boxes in original-image pixels, clipped, best score first, within the limits', async () => {
    const image = await decodeImage(livingRoom, 50e6);
    const { detections } = await detector.detect(image);
    const tv = detections.find((detection) => detection.label === 'tvmonitor')!;
    // The tv stands at the left of the 640×426 photo, about x 5..155, y 165..265.
    tv.bbox.forEach((value, index) => expect(Math.abs(value - [7, 167, 156, 263][index]!)).toBeLessThan(12));
    for (const { bbox, score } of detections) {
      expect(bbox[0]).toBeGreaterThanOrEqual(0);
      expect(bbox[2]).toBeLessThanOrEqual(640);
      expect(bbox[3]).toBeLessThanOrEqual(426);
      expect(Math.min(bbox[2] - bbox[0], bbox[3] - bbox[1])).toBeGreaterThanOrEqual(DEFAULT_DETECTOR_OPTIONS.minBoxSize);
      expect(score).toBeGreaterThanOrEqual(DEFAULT_DETECTOR_OPTIONS.scoreThreshold);
    }
    expect(detections.map((detection) => detection.score)).toEqual([...detections.map((detection) => detection.score)].sort((a, b) => b - a));
  });

  it('detects in the upright frame of a photo stored sideways with an EXIF orientation', async () => {
    // A phone stores the pixels turned and records orientation 6 ("turn 90° clockwise to view").
    const sideways = await sharp(livingRoom).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    expect(await sharp(sideways).metadata()).toMatchObject({ width: 426, height: 640, orientation: 6 });
    const image = await decodeImage(sideways, 50e6);
    expect([image.width, image.height]).toEqual([640, 426]);
    const tv = (await detector.detect(image)).detections.find((detection) => detection.label === 'tvmonitor');
    expect(tv).toBeDefined();
    tv!.bbox.forEach((value, index) => expect(Math.abs(value - [7, 167, 156, 263][index]!)).toBeLessThan(12));
  });
});

describe('YOLOX-Nano on its own thread (detector.ownThread)', () => {
  it('describes the same model and finds the same detections and proposals as in-process, leaving the caller its pixels', async () => {
    const [here, there] = await Promise.all([createDetector(DEFAULT_DETECTOR_OPTIONS), createDetectorThread(DEFAULT_DETECTOR_OPTIONS)]);
    try {
      expect({ model: there.model, format: there.format, classNames: there.classNames, inputSize: there.inputSize, flexibleInput: there.flexibleInput }).toEqual({
        model: here.model,
        format: here.format,
        classNames: here.classNames,
        inputSize: here.inputSize,
        flexibleInput: here.flexibleInput,
      });
      for (const photo of [livingRoom, bananas]) {
        const image = await decodeImage(photo, 50e6);
        const [local, threaded] = await Promise.all([here.detect(image), there.detect(image)]);
        expect(image.data.byteLength).toBe(image.width * image.height * 3);
        expect(threaded.detections).toEqual(local.detections);
        expect(threaded.proposals).toEqual(local.proposals);
        expect(threaded.input).toEqual(local.input);
      }
      expect(there.isHealthy?.()).toBe(true);
    } finally {
      await Promise.all([here.close(), there.close()]);
    }
    expect(there.isHealthy?.()).toBe(false);
    await expect(there.detect(await decodeImage(bananas, 50e6))).rejects.toMatchObject({ code: 'NOT_READY' });
  });

  it('refuses to start with the load error of a model that cannot be found', async () => {
    await expect(createDetectorThread({ ...DEFAULT_DETECTOR_OPTIONS, model: 'no_such_model' })).rejects.toThrow(/no_such_model/);
  });
});
