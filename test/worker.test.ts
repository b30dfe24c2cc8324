/** runModuleWorker: one request to a real worker thread, and every way that thread can end. */
import { describe, expect, it } from 'vitest';
import { runModuleWorker } from '../src/core/worker.js';
import type { WorkerFixtureTask } from './support/worker-fixture.js';

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
