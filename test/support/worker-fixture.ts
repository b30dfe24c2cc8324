/** A worker module for test/worker.test.ts: does what its workerData names, to exercise runModuleWorker. */
import { isMainThread, workerData } from 'node:worker_threads';
import { FindthisError } from '../../src/core/errors.js';
import { replyFromWorker } from '../../src/core/worker.js';

export type WorkerFixtureTask = 'reply' | 'fail' | 'exit-silently' | 'crash';

if (!isMainThread) {
  const task = workerData as WorkerFixtureTask;
  if (task === 'reply') await replyFromWorker(() => ({ answer: 42 }));
  if (task === 'fail') await replyFromWorker(() => Promise.reject(new FindthisError('INDEX_CORRUPT', 'fixture: the file is bad')));
  // 'exit-silently': the module ends without replying and the thread exits with code 0.
  if (task === 'crash') process.exit(3);
}
