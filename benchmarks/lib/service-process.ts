/** The service as its own process (`node --import tsx src/service/main.ts`) on a given DATA_DIR, for tests and benchmarks. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/models/manifest.js';

/**
 * The service runs as `node --import tsx`, not under the `tsx` wrapper: the wrapper relays SIGTERM and
 * SIGKILLs its child when the child has not acknowledged within 30 ms, which a busy event loop misses
 * (then in-flight requests are cut). Signals must reach the Node process that handles them.
 */
export const SERVICE = [process.execPath, ['--import', 'tsx', 'src/service/main.ts']] as const;

/** Services started and not yet exited, for stopServicesOnSignal. */
const running = new Set<ChildProcessWithoutNullStreams>();

/**
 * For a benchmark's main: SIGINT or SIGTERM stops the services it started before it exits. Otherwise
 * an interrupted run leaves them serving, holding CPU and memory under the next run's timings. (Not
 * for tests: the test runner owns its workers' signals.)
 */
export function stopServicesOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill('SIGTERM');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export interface RunningService {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Everything the service wrote on stdout and stderr so far. */
  log: () => string;
  exited: Promise<number | null>;
}

/** Starts the service on `dataDir` (port 0, 127.0.0.1); resolves once it listens (not yet ready). */
export async function startService(dataDir: string, env: Record<string, string> = {}): Promise<RunningService> {
  const child = spawn(SERVICE[0], [...SERVICE[1]], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
  });
  running.add(child);
  let log = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    // JSON log lines on stdout; a config error before the logger exists goes to stderr.
    const collect = (chunk: Buffer): void => {
      log += chunk.toString();
      const found = /listening on (http:\/\/[^\s"]+)/.exec(log);
      if (found) resolve(found[1] as string);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    void exited.then((code) => reject(new Error(`service exited with ${code} before listening:\n${log}`)));
  });
  return { child, url, log: () => log, exited };
}
