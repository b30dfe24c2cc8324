import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FindthisError } from '../src/core/errors.js';
import { ensureModels } from '../src/models/fetch.js';
import { PROJECT_ROOT, loadManifest, modelSearchDirs, resolveModel, type Manifest, type ModelEntry } from '../src/models/manifest.js';

const SHARED_MODELS = resolve(PROJECT_ROOT, '..', 'shared', 'models');

describe('the model manifest', () => {
  it('lists the detector and the encoders with size, sha256, address and preprocessing', () => {
    const { models } = loadManifest();
    expect(models.yolox_nano).toMatchObject({ role: 'detector', bytes: 3660092, input: { channelOrder: 'BGR', size: 416, padValue: 114 } });
    expect(models.yolox_nano?.detection?.classes).toHaveLength(80);
    expect(models.mobilenetv2_int8).toMatchObject({ role: 'encoder', input: { channelOrder: 'RGB', size: 224 }, features: { tensor: '627_quantized', dim: 1280 } });
    expect(models.resnet50_random).toMatchObject({ url: null, features: { dim: 2048 } });
    for (const entry of Object.values(models)) expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('model resolution', () => {
  let dir: string;
  const savedEnv = process.env.MODELS_DIR;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.MODELS_DIR;
    else process.env.MODELS_DIR = savedEnv;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('searches an explicit dir, then MODELS_DIR, the project models/, then ../shared/models', () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    process.env.MODELS_DIR = '/somewhere/else';
    expect(modelSearchDirs(dir)).toEqual([dir, '/somewhere/else', join(PROJECT_ROOT, 'models'), SHARED_MODELS]);
  });

  it('finds the shared models when nothing comes earlier', () => {
    delete process.env.MODELS_DIR;
    expect(resolveModel('mobilenetv2_int8').path).toBe(join(SHARED_MODELS, 'mobilenetv2-12-int8.onnx'));
  });

  it('prefers a file in MODELS_DIR over the shared one', () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    writeFileSync(join(dir, 'yolox_nano.onnx'), 'stand-in');
    process.env.MODELS_DIR = dir;
    expect(resolveModel('yolox_nano').path).toBe(join(dir, 'yolox_nano.onnx'));
  });

  it('names the file, the places searched and the address when a model is missing', () => {
    expect(() => resolveModel('resnet50_v1_int8')).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_FOUND', message: expect.stringMatching(/resnet50-v1-12-int8\.onnx.*shared\/models.*https:\/\/github\.com\/onnx/) }),
    );
  });

  it('refuses an unknown model name, listing the known ones', () => {
    expect(() => resolveModel('yolo_huge')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('yolox_nano') }));
  });
});

describe('models:fetch', () => {
  const payload = Buffer.from('not really a model, but bytes with a known sha256');
  const sha256 = createHash('sha256').update(payload).digest('hex');
  let server: Server;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/model.onnx') response.end(payload);
      else if (request.url === '/redirect.onnx') response.writeHead(302, { location: '/model.onnx' }).end();
      else response.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function manifestWith(entry: Partial<ModelEntry>): Manifest {
    const template = loadManifest().models.mobilenetv2_int8!;
    return { models: { tiny: { ...template, file: 'tiny.onnx', bytes: payload.length, sha256, ...entry } } };
  }

  it('finds every model of the real manifest in the search places', async () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    const statuses = await ensureModels();
    expect(statuses.map((status) => [status.name, status.state])).toEqual([
      ['yolox_nano', 'ok'],
      ['mobilenetv2_int8', 'ok'],
      ['resnet50_random', 'ok'],
    ]);
  });

  it('downloads a missing model (following redirects), checks it and writes it under its name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    const statuses = await ensureModels({ manifest: manifestWith({ url: `${base}/redirect.onnx` }), modelsDir: dir });
    expect(statuses).toEqual([{ name: 'tiny', state: 'fetched', path: join(dir, 'tiny.onnx') }]);
    expect(readFileSync(join(dir, 'tiny.onnx'))).toEqual(payload);
  });

  it('rejects a download with the wrong sha256 and leaves no file behind', async () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    const manifest = manifestWith({ url: `${base}/model.onnx`, sha256: '0'.repeat(64) });
    await expect(ensureModels({ manifest, modelsDir: dir })).rejects.toMatchObject({ code: 'MODEL_CHECKSUM' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('when the address cannot be reached, names the file, its address and where to put it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    const url = `${base}/missing.onnx`;
    const error = await ensureModels({ manifest: manifestWith({ url }), modelsDir: dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FindthisError);
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const message = (error as Error).message;
    expect(message).toContain('tiny.onnx');
    expect(message).toContain(url);
    expect(message).toContain(join(dir, 'tiny.onnx'));
  });

  it('reports a missing model without an address instead of failing the others', async () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    const manifest = manifestWith({ url: null });
    expect(await ensureModels({ manifest, modelsDir: dir })).toEqual([{ name: 'tiny', state: 'absent-no-address', file: 'tiny.onnx' }]);
  });

  it('refuses a present file whose size is wrong', async () => {
    dir = mkdtempSync(join(tmpdir(), 'findthis-models-'));
    writeFileSync(join(dir, 'tiny.onnx'), 'short');
    await expect(ensureModels({ manifest: manifestWith({ url: null }), modelsDir: dir })).rejects.toMatchObject({ code: 'MODEL_CHECKSUM' });
  });
});
