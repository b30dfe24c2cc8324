import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL server from Debian's `postgresql-15` binaries, for what PGlite cannot show:
 * PGlite is one session underneath, so its advisory locks never make anyone wait. The cluster lives in
 * a temporary folder, listens on a Unix socket there only, and runs without fsync. As root (CI) it
 * runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  /** Connection settings for `pg`: the socket's folder as host. */
  readonly connection: pg.ClientConfig;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'findthis-postgres-'));
  const user: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresUser() : {};
  if (user.uid !== undefined && user.gid !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(join(POSTGRES_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { ...user, encoding: 'utf8', timeout: 120_000 });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);
  const server: ChildProcess = spawn(join(POSTGRES_BIN, 'postgres'), ['-D', data, '-k', dir, '-c', 'listen_addresses=', '-F'], { ...user, stdio: 'ignore' });
  const connection = { host: dir, user: 'postgres', database: 'postgres' };
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client(connection);
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (attempt === 200 || server.exitCode !== null) {
        server.kill('SIGKILL');
        throw new Error(`PostgreSQL did not start: ${String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    connection,
    async stop() {
      server.kill('SIGINT'); // fast shutdown
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `postgres` user Debian's package creates. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}
