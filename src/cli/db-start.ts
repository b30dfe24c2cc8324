/**
 * `npm run db:start -- [--port P] [--data DIR] [--host H]`: a local PostgreSQL with pgvector (PGlite
 * over the wire protocol, see src/storage/pg/local-engine.ts) for the pg storage backend. Prints the
 * URL to set as FINDTHIS_DATABASE_URL on stdout; SIGTERM/SIGINT close the connections and flush the
 * database to DIR, then exit 0. Without --data the database lives in memory.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkInteger } from '../config/checks.js';
import { invalidParameter } from '../core/errors.js';
import { startLocalEngine } from '../storage/pg/local-engine.js';
import { exitWithError, writeStdout } from './common.js';

const USAGE = 'usage: npm run db:start -- [--port P (default 5432, 0 = any)] [--data DIR] [--host 127.0.0.1]';

async function main(): Promise<void> {
  let port: number;
  let dataDir: string | undefined;
  let host: string;
  try {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { port: { type: 'string', default: '5432' }, data: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } },
    });
    if (positionals.length > 0) throw invalidParameter('arguments', `no positional arguments (${USAGE})`, positionals.join(' '));
    port = checkInteger('--port', /^\d+$/.test(values.port) ? Number(values.port) : values.port, 0, 65535, invalidParameter);
    dataDir = values.data === undefined ? undefined : resolve(values.data);
    host = values.host;
  } catch (error) {
    exitWithError(error);
  }
  // Signals are handled from the start: a stop during the first start-up (initdb takes tens of seconds
  // on a busy machine) waits for it, then closes the database cleanly instead of leaving DIR half made.
  const starting = startLocalEngine({ port, host, ...(dataDir !== undefined ? { dataDir } : {}) });
  const stop = async (signal: string): Promise<void> => {
    process.stderr.write(`${signal} received: closing connections and flushing the database\n`);
    try {
      await (await starting).stop();
      process.exit(0);
    } catch (error) {
      process.stderr.write(`error: stopping failed: ${String(error)}\n`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  let engine;
  try {
    engine = await starting;
  } catch (error) {
    exitWithError(error);
  }
  process.stderr.write(`PGlite with pgvector serving ${dataDir ?? 'an in-memory database'}; set FINDTHIS_DATABASE_URL to:\n`);
  await writeStdout(`${engine.url}\n`);
}

await main();
