/** Config: defaults, the file, env overrides, one clear error per bad key, frozen result. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../src/config/load.js';
import { DEFAULT_CONFIG, schemaFor, type Rule } from '../src/config/schema.js';
import { DEFAULT_EXTRACTOR_OPTIONS } from '../src/pipeline/extractor.js';
import { DEFAULT_INDEX_PARAMS } from '../src/indexing/params.js';

const dir = mkdtempSync(join(tmpdir(), 'findthis-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(content: unknown): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('loadConfig', () => {
  it('gives the embedded defaults (the stages\' own defaults) with no file and no env', () => {
    const config = loadConfig({ env: {}, file: configFile({}) });
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.server.port).toBe(8080);
    expect(config.paths.dataDir).toBe('./data');
    expect(config.server.uploadLimitBytes).toBe(20 * 1024 * 1024);
    expect(config.server.queueConcurrency).toBe(2);
    expect(config.extractor).toEqual(DEFAULT_EXTRACTOR_OPTIONS);
    expect(config.index).toEqual(DEFAULT_INDEX_PARAMS);
  });

  it('ships config/findthis.json with the service defaults; the stages keep their own tuned defaults', () => {
    const shipped = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8'));
    const { server, paths, search, whitening, acceptance } = DEFAULT_CONFIG;
    expect(shipped).toEqual({ server, paths, search, whitening, acceptance });
    expect(loadConfig({ env: {} })).toEqual(DEFAULT_CONFIG);
  });

  it('ships config/fast.json, a latency profile that changes only how the encoder reads the whole image and large regions, and whether small photos are enlarged', () => {
    const fast = loadConfig({ env: {}, file: join(DEFAULT_CONFIG_PATH, '..', 'fast.json') });
    expect(fast.extractor.encoder).toEqual({ ...DEFAULT_CONFIG.extractor.encoder, imageInputSize: 0, pooling: 'gem' });
    expect(fast.extractor.detector).toEqual({ ...DEFAULT_CONFIG.extractor.detector, upscale: false });
    // Every object at the encoder's inputSize: large regions too.
    expect(fast.extractor.localization).toEqual({ ...DEFAULT_CONFIG.extractor.localization, largeRegionSide: 0 });
    const restored = { ...fast.extractor, encoder: DEFAULT_CONFIG.extractor.encoder, detector: DEFAULT_CONFIG.extractor.detector, localization: DEFAULT_CONFIG.extractor.localization };
    expect({ ...fast, extractor: restored }).toEqual(DEFAULT_CONFIG);
  });

  it('applies the file, then the env overrides', () => {
    const file = configFile({ server: { port: 9000, maxQueueLength: 4 }, extractor: { detector: { scoreThreshold: 0.5 } } });
    const config = loadConfig({ env: { FINDTHIS_CONFIG: file, PORT: '9100', DATA_DIR: '/tmp/x', LOG_LEVEL: 'debug', QUEUE_CONCURRENCY: '3' } });
    expect(config.server.port).toBe(9100);
    expect(config.server.maxQueueLength).toBe(4);
    expect(config.server.queueConcurrency).toBe(3);
    expect(config.server.logLevel).toBe('debug');
    expect(config.paths.dataDir).toBe('/tmp/x');
    expect(config.extractor.detector.scoreThreshold).toBe(0.5);
    expect(config.extractor.detector.iouThreshold).toBe(DEFAULT_CONFIG.extractor.detector.iouThreshold);
  });

  it('is deeply frozen', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.extractor.detector)).toBe(true);
    expect(Object.isFrozen(config.extractor.detector.classDeny)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(DEFAULT_CONFIG.server.port).toBe(8080);
  });

  it.each([
    [{ env: { PORT: 'eighty' } }, 'Expected an integer in 0..65535 for server.port (env PORT), but got "eighty"'],
    [{ env: { PORT: '70000' } }, 'Expected an integer in 0..65535 for server.port (env PORT), but got 70000'],
    [{ env: { LOG_LEVEL: 'loud' } }, 'Expected one of debug, info, warn, error for server.logLevel (env LOG_LEVEL), but got "loud"'],
    [{ env: { MAX_QUEUE_LENGTH: '-1' } }, 'Expected an integer in 0..10000 for server.maxQueueLength (env MAX_QUEUE_LENGTH), but got -1'],
    [{ env: {}, overrides: { search: { defaultIndex: 'annoy' } } }, 'Expected one of lsh, hnsw, exact for search.defaultIndex (overrides), but got "annoy"'],
    [{ env: {}, overrides: { search: { maxK: 3 } } }, /Expected an integer ≤ search.maxK \(3\) for search.defaultK.*, but got 5/],
    [{ env: {}, overrides: { extractor: { detector: { scoreThreshold: 1.5 } } } }, 'Expected a number in 0..1 for extractor.detector.scoreThreshold (overrides), but got 1.5'],
    [{ env: {}, overrides: { extractor: { detector: { classDeny: 'person' } } } }, 'Expected an array of strings for extractor.detector.classDeny (overrides), but got "person"'],
    [{ env: {}, overrides: { extractor: { detector: { ownThread: 'yes' } } } }, 'Expected true or false for extractor.detector.ownThread (overrides), but got "yes"'],
    [{ env: {}, overrides: { index: { lsh: { hashSize: 40 } } } }, 'Expected an integer in 0..32 for index.lsh.hashSize (overrides), but got 40'],
    [{ env: {}, overrides: { index: { lsh: { planes: 'pca' } } } }, 'Expected one of random, learned for index.lsh.planes (overrides), but got "pca"'],
    [{ env: {}, overrides: { extractor: { encoder: { pooling: 'max' } } } }, 'Expected one of gem, rgem for extractor.encoder.pooling (overrides), but got "max"'],
    [{ env: {}, overrides: { extractor: { encoder: { imageInputSize: 16 } } } }, 'Expected an integer in 32..1024 for extractor.encoder.imageInputSize (overrides), but got 16'],
    [{ env: {}, overrides: { server: { prot: 1 } } }, /Unknown config key server.prot \(overrides\): expected one of server.host, server.port/],
  ] as const)('refuses a bad value with INVALID_CONFIG naming the key: %j', (options, message) => {
    const error = errorOf(() => loadConfig({ file: configFile({}), ...(options as object) }));
    expect(error.code).toBe('INVALID_CONFIG');
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it('names the file for a bad key in it, and refuses broken JSON or a missing FINDTHIS_CONFIG file', () => {
    const file = configFile({ extractor: { encoder: { inputSize: 16 } } });
    expect(errorOf(() => loadConfig({ env: { FINDTHIS_CONFIG: file } })).message).toBe(
      `Expected an integer in 32..1024 for extractor.encoder.inputSize (${file}), but got 16`,
    );
    const broken = configFile('{"server": ');
    expect(errorOf(() => loadConfig({ env: { FINDTHIS_CONFIG: broken } })).message).toMatch(/is not valid JSON/);
    const missing = errorOf(() => loadConfig({ env: { FINDTHIS_CONFIG: join(dir, 'nope.json') } }));
    expect(missing.code).toBe('INVALID_CONFIG');
    expect(missing.message).toMatch(/nope.json does not exist/);
  });

  it('checks a stage option it has no explicit rule for by the type of its default, and keeps it', () => {
    const schema = schemaFor({ stage: { size: 4, name: 'a', names: ['x'], on: true } }, { stage: {} });
    const rules = schema.stage as Record<string, Rule>;
    expect(rules.size?.('stage.size', 8)).toBe(8);
    expect(errorOf(() => rules.size?.('stage.size', '8')).message).toMatch(/^Expected a number in .* for stage.size, but got "8"$/);
    expect(errorOf(() => rules.name?.('stage.name', 3)).message).toBe('Expected a string for stage.name, but got 3');
    expect(errorOf(() => rules.names?.('stage.names', 'x')).message).toBe('Expected an array of strings for stage.names, but got "x"');
    expect(errorOf(() => rules.on?.('stage.on', 'yes')).message).toBe('Expected true or false for stage.on, but got "yes"');
    // and every default key of every stage reaches the loaded config
    expect(Object.keys(loadConfig({ env: {} }).extractor.encoder).sort()).toEqual(Object.keys(DEFAULT_CONFIG.extractor.encoder).sort());
  });
});
