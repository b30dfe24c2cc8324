/**
 * A local PostgreSQL for trying the pg backend and for its tests: PGlite (Postgres compiled to
 * WebAssembly) with the pgvector extension, served over the Postgres wire protocol by pglite-socket.
 * Clients talk to it with `pg` exactly as to a PostgreSQL server.
 *
 * PGlite is one backend session underneath: the socket server queues every client's messages and
 * runs them one at a time (a client inside a transaction keeps the engine until it ends), so all
 * connections share one session (its settings and advisory locks) and never run in parallel.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface LocalEngineOptions {
  /** TCP port, 0 = any free port. */
  port: number;
  host?: string;
  /**
   * Folder the database lives in; undefined = in memory (gone when stopped), started from a copy of an
   * empty database cached in the temp folder: initdb takes 30 s on a busy 2-core machine, a copy 5 s.
   */
  dataDir?: string;
  /** Wire connections served at once (every replica's pool counts). Default 64. */
  maxConnections?: number;
}

export interface LocalEngine {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`: what FINDTHIS_DATABASE_URL is set to. */
  readonly url: string;
  readonly port: number;
  /** Closes every connection, then the database (flushing it to `dataDir`). */
  stop(): Promise<void>;
}

export async function startLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const db = options.dataDir !== undefined
    ? await PGlite.create({ dataDir: options.dataDir, extensions: { vector } })
    : await PGlite.create({ loadDataDir: await emptyDatabase(), extensions: { vector } });
  const host = options.host ?? '127.0.0.1';
  const server = new PGLiteSocketServer({ db, port: options.port, host, maxConnections: options.maxConnections ?? 64 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const port = Number(server.getServerConn().split(':').pop());
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    port,
    stop() {
      stopped ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return stopped;
    },
  };
}

/** A dump of a fresh database, made once per PGlite version and kept in the temp folder. */
async function emptyDatabase(): Promise<Blob> {
  // The package's exports hide package.json: read it beside the resolved entry (dist/index.js).
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  const file = join(tmpdir(), `findthis-pglite-${version}-empty.tar.gz`);
  if (!existsSync(file)) {
    const db = await PGlite.create({ extensions: { vector } });
    const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
    await db.close();
    const pending = `${file}.${process.pid}.tmp`;
    writeFileSync(pending, dump);
    renameSync(pending, file);
  }
  return new Blob([readFileSync(file)]);
}
