/**
 * What the database keeps for replicas to group search photos' regions and judge matches with,
 * besides the transform: each product's transformed vectors summed (its prototype's direction) and
 * how many stored regions carry each detector class (replica-reference.ts loads them). The acceptance
 * model itself is part of search_state (written by optimize's swap, loaded by PgStore.refresh with
 * the transform).
 *
 * Why sums kept in the database: a replica must see another replica's adds and deletes at its next
 * request, and summing every stored vector again after each write would cost O(catalog) per write
 * and replica. So every add adds its transformed vectors to its product's row of the live pair's
 * `product_sums_<n>` and its regions to `region_labels`, in the add's transaction; a delete takes its
 * regions out and its sum row cascades away; a rebuild counts both again in its swap.
 *
 * Every write also bumps `search_state.catalog_version`, which `refresh()` reads anyway: a replica
 * reads again only when it moved, so a refresh stays one query while the catalog is unchanged; and
 * then only the sums changed since the catalog version it last read (each row keeps the version that
 * last changed it), the label counts (one row per class), and the products' ids only when a product
 * was deleted since (`search_state.products_removed_at`): no read scales with the catalog unless a
 * product went.
 */
import type { ClientBase } from 'pg';
import { createProductSums, parseVector, searchTables, vectorText, type SearchTables } from './search-tables.js';

/** Migration 3: the acceptance model and catalog version in search_state, region labels, the live pair's product sums. */
export async function addSearchReference(client: ClientBase): Promise<void> {
  await client.query(`
ALTER TABLE search_state ADD COLUMN catalog_version bigint NOT NULL DEFAULT 0, ADD COLUMN acceptance jsonb;
CREATE TABLE region_labels (label text PRIMARY KEY, regions bigint NOT NULL);`);
  const { rows } = await client.query('SELECT tables, dim FROM search_state WHERE id = 1');
  if (rows.length === 0) return; // a new database: its first pair comes with its sums
  const tables = searchTables(Number(rows[0].tables));
  await createProductSums(client, tables, Number(rows[0].dim));
  await countAgain(client, tables);
}

/** Migration 5: a database migrated to 3 before product sums said when they changed gets the column. */
export async function addSumChanges(client: ClientBase): Promise<void> {
  const { rows } = await client.query('SELECT tables FROM search_state WHERE id = 1');
  if (rows.length === 0) return;
  const tables = searchTables(Number(rows[0].tables));
  await client.query(`ALTER TABLE ${tables.sums} ADD COLUMN IF NOT EXISTS changed bigint NOT NULL DEFAULT 0`);
  await client.query(`CREATE INDEX IF NOT EXISTS ${tables.sums}_changed ON ${tables.sums} (changed)`);
}

/**
 * Every product's sum from the pair's vectors, and the region labels from the stored objects (a
 * rebuild's new pair, in its swap transaction; rows loaded straight into the tables, as
 * bench:storage does, are counted here too).
 */
export async function countAgain(client: ClientBase, tables: SearchTables): Promise<void> {
  await client.query(`INSERT INTO ${tables.sums} (product_id, sum, changed)
    SELECT o.product_id, sum(s.embedding), (SELECT catalog_version FROM search_state WHERE id = 1)
      FROM ${tables.vectors} s JOIN objects o ON o.id = s.object_id GROUP BY o.product_id`);
  await client.query(`DELETE FROM region_labels;
    INSERT INTO region_labels (label, regions) SELECT label, count(*) FROM objects WHERE kind = 'region' GROUP BY label`);
}

/**
 * In an add's transaction (whose catalog version is `catalogVersion`): its transformed vectors into its
 * product's sum, its regions into the label counts.
 */
export async function recordAdded(
  client: ClientBase,
  tables: SearchTables,
  catalogVersion: number,
  productId: string,
  vectors: readonly Float32Array[],
  regionLabels: readonly string[],
): Promise<void> {
  if (vectors.length > 0) {
    const sum = new Float32Array(vectors[0]!.length);
    for (const vector of vectors) for (let k = 0; k < sum.length; k++) sum[k]! += vector[k]!;
    await client.query(
      `INSERT INTO ${tables.sums} AS p (product_id, sum, changed) VALUES ($1, $2, $3)
         ON CONFLICT (product_id) DO UPDATE SET sum = p.sum + EXCLUDED.sum, changed = EXCLUDED.changed`,
      [productId, vectorText(sum), catalogVersion],
    );
  }
  if (regionLabels.length > 0) {
    await client.query(
      `INSERT INTO region_labels AS r (label, regions) SELECT label, count(*) FROM unnest($1::text[]) AS label GROUP BY label
         ON CONFLICT (label) DO UPDATE SET regions = r.regions + EXCLUDED.regions`,
      [regionLabels],
    );
  }
}

/** In a delete's transaction, before the product's objects go: its regions out of the label counts. */
export async function recordRemoved(client: ClientBase, productId: string): Promise<void> {
  await client.query(
    `UPDATE region_labels r SET regions = r.regions - c.n
       FROM (SELECT label, count(*) AS n FROM objects WHERE product_id = $1 AND kind = 'region' GROUP BY label) c WHERE r.label = c.label`,
    [productId],
  );
}

/** What a replica read last: the versions, and the products it holds sums of. */
export interface ReadBefore {
  version: number;
  catalogVersion: number;
}

/** The sums and label counts as of one catalog version. */
export interface StoredReference {
  version: number;
  catalogVersion: number;
  /** Every product's sum; after a read under the same version, only those changed since. */
  sums: { productId: string; vector: Float32Array }[];
  /** After a read under the same version: every product's id when some product read before is gone. */
  products?: string[];
  regionLabels: Map<string, number>;
}

/**
 * Reads the live pair's sums and the label counts in `client`'s open transaction, holding the
 * search_state row (FOR SHARE: writes and a swap wait the few milliseconds this takes), so that what
 * is read belongs to the version and catalog version it says. With `before` of the same version, only
 * what changed since: the sums changed after its catalog version, and, when a product was deleted
 * after it, every product's id.
 */
export async function readStoredReference(client: ClientBase, before?: ReadBefore): Promise<StoredReference> {
  const state = (await client.query('SELECT version, tables, catalog_version, products_removed_at FROM search_state WHERE id = 1 FOR SHARE')).rows[0];
  const version = Number(state.version);
  const tables = searchTables(Number(state.tables));
  const since = before?.version === version ? before : undefined;
  const sums = (await client.query(`SELECT product_id, sum::text AS sum FROM ${tables.sums} WHERE changed > $1 ORDER BY product_id`, [since?.catalogVersion ?? -1])).rows.map(
    (row) => ({ productId: row.product_id as string, vector: parseVector(row.sum) }),
  );
  let products: string[] | undefined;
  if (since && Number(state.products_removed_at) > since.catalogVersion) {
    products = (await client.query(`SELECT product_id FROM ${tables.sums}`)).rows.map((row) => row.product_id as string);
  }
  const labels = await client.query('SELECT label, regions FROM region_labels WHERE regions > 0');
  return {
    version,
    catalogVersion: Number(state.catalog_version),
    sums,
    ...(products ? { products } : {}),
    regionLabels: new Map(labels.rows.map((row) => [row.label as string, Number(row.regions)])),
  };
}
