/**
 * `npm start`'s entry point as a real child process: listen early, load, serve, stop cleanly on
 * SIGTERM (finishing the request in flight), and come back on the same DATA_DIR with the same answers.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../src/catalog/lock.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { GROCERY_DIR, iconicImages } from '../benchmarks/lib/grocery.js';
import { postImage, request } from './support/http.js';
import { SERVICE, startService, waitReady, type RunningService } from './support/service-process.js';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const PRODUCTS = ['Banana', 'Kiwi', 'Cabbage', 'Brown-Cap-Mushroom', 'Bravo-Apple-Juice', 'Pineapple'];
const QUERY = join(GROCERY_DIR, 'val/Fruit/Banana/Banana_005.jpg');
const dataDir = mkdtempSync(join(tmpdir(), 'findthis-process-'));
const children: ChildProcessWithoutNullStreams[] = [];

async function start(): Promise<RunningService> {
  const running = await startService(dataDir);
  children.push(running.child);
  return running;
}

async function answer(url: string, index: string): Promise<Array<[string, number]>> {
  const result = await postImage(`${url}/v1/search?k=5&index=${index}`, QUERY);
  expect(result.status).toBe(200);
  return result.body.objects.flatMap((object: { matches: Array<{ productId: string; score: number }> }) =>
    object.matches.map((match): [string, number] => [match.productId, match.score]),
  );
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the service process', () => {
  it('serves, refuses a second writer, stops cleanly on SIGTERM and restarts with the same answers', async () => {
    const first = await start();
    await waitReady(first.url);
    const iconic = iconicImages();
    for (const name of PRODUCTS) {
      expect((await postImage(`${first.url}/v1/products`, iconic.get(name) as string, { id: name })).status).toBe(201);
    }
    const before = { lsh: await answer(first.url, 'lsh'), hnsw: await answer(first.url, 'hnsw') };
    expect(before.lsh.map(([id]) => id)).toContain('Banana');

    // The ingest CLI must not write the DATA_DIR the service is using.
    // (spawned asynchronously: a blocked event loop would let the service's keep-alive sockets go stale)
    const cli = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(TSX, ['src/cli/ingest.ts', join(GROCERY_DIR, 'iconic-images-and-descriptions/Fruit/Kiwi')], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, DATA_DIR: dataDir },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (status) => resolve({ status, stderr }));
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/DATA_DIR_LOCKED: DATA_DIR is in use: .* locked by another running process/);
    expect(cli.stderr).toContain('While the service runs, ingest through it: npm run ingest -- <dir> --url http://localhost:8080');

    // Requests in flight when SIGTERM comes are still answered; then the process saves and exits 0.
    // Six searches keep the queue (2 at a time) busy; SIGTERM goes once the service has received all
    // of them (running + waiting + answered = 6): a request still on the wire could not be finished.
    const SEARCHES = 6;
    let inFlight: Array<Promise<{ status: number }>> = [];
    for (let attempt = 0; attempt < 5 && inFlight.length === 0; attempt += 1) {
      let settled = 0;
      const batch = Array.from({ length: SEARCHES }, () => postImage(`${first.url}/v1/search?k=5`, QUERY).finally(() => (settled += 1)));
      let received = false;
      while (!received && settled < SEARCHES) {
        // answered before the scrape + in the queue at the scrape never counts one search twice
        const answeredBefore = settled;
        const text = (await request(`${first.url}/metrics`)).body as string;
        const depth = (state: string) => Number(new RegExp(`findthis_queue_depth\\{state="${state}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
        received = depth('running') > 0 && depth('running') + depth('waiting') + answeredBefore >= SEARCHES;
      }
      if (received) inFlight = batch;
      else await Promise.all(batch);
    }
    expect(inFlight.length, 'all searches should be in the service when SIGTERM is sent').toBe(SEARCHES);
    first.child.kill('SIGTERM');
    for (const answer of await Promise.all(inFlight)) expect(answer.status).toBe(200);
    expect(await first.exited).toBe(0);
    expect(first.log()).toContain('stopped cleanly');
    expect(existsSync(join(dataDir, 'indexes', 'lsh.ftix'))).toBe(true);
    expect(existsSync(join(dataDir, 'indexes', 'hnsw.ftix'))).toBe(true);
    acquireLock(join(dataDir, 'catalog.sqlite.lock')).release(); // the stopped service left the lock free

    const second = await start();
    await waitReady(second.url);
    expect(await answer(second.url, 'lsh')).toEqual(before.lsh);
    expect(await answer(second.url, 'hnsw')).toEqual(before.hnsw);
    const product = await request(`${second.url}/v1/products/Banana`);
    expect(product.status).toBe(200);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('refuses to start with an invalid config, naming the key', () => {
    const result = spawnSync(SERVICE[0], [...SERVICE[1]], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PORT: 'eighty', DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Expected an integer in 0..65535 for server.port (env PORT), but got "eighty"');
  });
});
