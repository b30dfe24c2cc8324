/** The service as its own process (`node --import tsx src/service/main.ts`) on a given DATA_DIR. */
import { expect } from 'vitest';
import { request } from './http.js';

export { SERVICE, startService, type RunningService } from '../../benchmarks/lib/service-process.js';

/** Polls /healthz (503 `loading` meanwhile) until it answers 200. */
export async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 1200; attempt += 1) {
    const health = await request(`${url}/healthz`);
    if (health.status === 200) return;
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: 'loading' });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the service did not become ready in 60 s');
}
