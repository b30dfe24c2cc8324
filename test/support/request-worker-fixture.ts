/** A request worker for test/worker.test.ts: adds the last note to each request, fails, or exits, as asked. */
import { FindthisError } from '../../src/core/errors.js';
import { serveRequests } from '../../src/core/request-worker.js';

export type RequestFixtureData = { task: 'request-fixture'; failToLoad?: boolean };
export type RequestFixtureRequest = { add?: number; fail?: boolean; exit?: boolean; delayMs?: number };

let base = 0;
serveRequests<RequestFixtureData, { loaded: true }, RequestFixtureRequest, number, number>('request-fixture', async ({ failToLoad }) => {
  if (failToLoad) throw new FindthisError('MODEL_NOT_FOUND', 'fixture: no such model');
  return {
    ready: { loaded: true },
    note: (value) => (base = value),
    async answer({ add = 0, fail, exit, delayMs = 0 }) {
      if (exit) process.exit(5);
      const value = base + add;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (fail) throw new FindthisError('INVALID_IMAGE', 'fixture: not an image');
      return { body: value };
    },
    close: async () => undefined,
  };
});
