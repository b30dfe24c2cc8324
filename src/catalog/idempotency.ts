/**
 * Idempotency keys for ingest: a client that lost a 201 retries with the same `Idempotency-Key` and
 * gets the first answer instead of storing the image twice. The key and its answer are written in
 * the ingest's own transaction, so a key is never stored without its image, nor an image without
 * its key. Keys are kept for IDEMPOTENCY_KEY_TTL_MS, long past any client's retries.
 */
import type Database from 'better-sqlite3';

export const IDEMPOTENCY_SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  answer TEXT NOT NULL,
  created TEXT NOT NULL
);
`;

/** How long a key is remembered: 24 hours. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export interface StoredAnswer {
  /** What identifies the request the key was first used with (product, metadata, image bytes). */
  fingerprint: string;
  /** The first answer, as JSON text. */
  answer: string;
}

export class IdempotencyStore {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      get: db.prepare('SELECT fingerprint, answer FROM idempotency_keys WHERE key = ?'),
      put: db.prepare('INSERT INTO idempotency_keys (key, fingerprint, answer, created) VALUES (?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM idempotency_keys WHERE created < ?'),
    };
  }

  get(key: string): StoredAnswer | undefined {
    return this.statements.get.get(key) as StoredAnswer | undefined;
  }

  /** Stores the key's answer (call inside the ingest's transaction) and forgets keys past their time. */
  put(key: string, stored: StoredAnswer, now = new Date()): void {
    this.statements.prune.run(new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS).toISOString());
    this.statements.put.run(key, stored.fingerprint, stored.answer, now.toISOString());
  }
}
