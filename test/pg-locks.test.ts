/**
 * The rebuild lock between replicas, on a real PostgreSQL server (Debian's postgresql-15): PGlite is
 * one session, so there one replica can never wait for another's lock.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { LOCKS, withAdvisoryLock } from '../src/storage/pg/schema.js';
import { debianTool } from './support/debian-tools.js';
import { POSTGRES_BIN, startPostgres, type PostgresServer } from './support/postgres-server.js';

const postgres = debianTool(join(POSTGRES_BIN, 'initdb'), 'postgresql-15');
let server: PostgresServer | undefined;

beforeAll(async () => {
  if (postgres.available) server = await startPostgres();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** `promise` settled within `ms`, or 'pending'. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the rebuild lock on PostgreSQL', () => {
  postgres.it('is waited for without holding a connection: a replica with a pool of one still searches meanwhile', async () => {
    if (!server) throw new Error(`PostgreSQL 15 is needed here (${POSTGRES_BIN}; Debian package postgresql-15): .ci/run installs it`);
    const other = new pg.Client(server.connection); // another replica, rebuilding
    await other.connect();
    const pool = new pg.Pool({ ...server.connection, max: 1 });
    try {
      await other.query('SELECT pg_advisory_lock($1)', [LOCKS.rebuild]);
      const ran: string[] = [];
      const waiting = withAdvisoryLock(pool, LOCKS.rebuild, async (client) => {
        ran.push('rebuild');
        return (await client.query('SELECT 1 AS one')).rows[0].one as number;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The pool's only connection is free for a search while the optimize waits.
      expect(await within(pool.query('SELECT 2 AS two').then((result) => result.rows[0].two as number), 5_000)).toBe(2);
      expect(await withAdvisoryLock(pool, LOCKS.rebuild, async () => 'ran', { tryLock: true })).toBeUndefined();
      expect(ran).toEqual([]);
      await other.query('SELECT pg_advisory_unlock($1)', [LOCKS.rebuild]);
      expect(await within(waiting, 5_000)).toBe(1);
      expect(ran).toEqual(['rebuild']);
      // …and it let the lock go: the other replica takes it at once.
      expect((await other.query('SELECT pg_try_advisory_lock($1) AS locked', [LOCKS.rebuild])).rows[0].locked).toBe(true);
    } finally {
      await pool.end();
      await other.end();
    }
  });
});
