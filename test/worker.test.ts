/** runModuleWorker and request workers: requests to real worker threads, and every way those threads can end. */
import { describe, expect, it } from 'vitest';
import { runModuleWorker } from '../src/core/worker.js';
import { startRequestWorker } from '../src/core/request-worker.js';
import type { WorkerFixtureTask } from './support/worker-fixture.js';
import type { RequestFixtureData, RequestFixtureRequest } from './support/request-worker-fixture.js';

const fixture = new URL('./support/worker-fixture.ts', import.meta.url).href;
const run = (task: WorkerFixtureTask) => runModuleWorker<{ answer: number }>(fixture, task, [], 'fixture');

describe('runModuleWorker', () => {
  it('resolves with the worker\'s reply', async () => {
    await expect(run('reply')).resolves.toEqual({ answer: 42 });
  });

  it('rejects with the error the worker caught, a FindthisError again', async () => {
    await expect(run('fail')).rejects.toMatchObject({ code: 'INDEX_CORRUPT', message: 'fixture: the file is bad' });
  });

  it('rejects when the worker exits with code 0 without replying', async () => {
    await expect(run('exit-silently')).rejects.toThrow('fixture worker exited with code 0 without replying');
  });

  it('rejects when the worker exits with another code', async () => {
    await expect(run('crash')).rejects.toThrow('fixture worker exited with code 3 without replying');
  });
});

const requestFixture = new URL('./support/request-worker-fixture.ts', import.meta.url).href;
const startFixture = (data: Partial<RequestFixtureData> = {}) =>
  startRequestWorker<{ loaded: true }, RequestFixtureRequest, number, number>(requestFixture, { task: 'request-fixture', ...data }, 'fixture');

describe('startRequestWorker / serveRequests', () => {
  it('answers overlapping requests each with its own answer, in whatever order they finish, notes in order', async () => {
    const worker = await startFixture();
    try {
      expect(worker.ready).toEqual({ loaded: true });
      const slow = worker.request({ add: 1, delayMs: 50 });
      worker.notify(100);
      const fast = worker.request({ add: 2 });
      expect(await Promise.all([slow, fast])).toEqual([1, 102]);
    } finally {
      await worker.close();
    }
  });

  it('rejects one request with its error, a FindthisError again, and goes on serving', async () => {
    const worker = await startFixture();
    try {
      await expect(worker.request({ fail: true })).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: 'fixture: not an image' });
      await expect(worker.request({ add: 3 })).resolves.toBe(3);
      expect(worker.healthy()).toBe(true);
    } finally {
      await worker.close();
    }
  });

  it('refuses to start with the load error', async () => {
    await expect(startFixture({ failToLoad: true })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'fixture: no such model' });
  });

  it('once the worker exits unasked, fails the waiting request and every later one with NOT_READY and says it is unhealthy', async () => {
    const worker = await startFixture();
    const waiting = expect(worker.request({ add: 1, delayMs: 5_000 })).rejects.toMatchObject({ code: 'NOT_READY' });
    await expect(worker.request({ exit: true })).rejects.toMatchObject({ code: 'NOT_READY', message: expect.stringContaining('The fixture thread stopped (exit code 5)') });
    await waiting;
    expect(worker.healthy()).toBe(false);
    await expect(worker.request({ add: 1 })).rejects.toMatchObject({ code: 'NOT_READY' });
    await worker.close();
  });

  it('once closed (twice is fine), fails waiting and later requests with NOT_READY', async () => {
    const worker = await startFixture();
    const waiting = expect(worker.request({ delayMs: 5_000 })).rejects.toMatchObject({ code: 'NOT_READY', message: 'The fixture is closing' });
    await Promise.all([worker.close(), worker.close()]);
    await waiting;
    expect(worker.healthy()).toBe(false);
    await expect(worker.request({})).rejects.toMatchObject({ code: 'NOT_READY' });
  });
});
