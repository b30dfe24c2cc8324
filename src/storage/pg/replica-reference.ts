/**
 * One replica's copy of what it groups search photos' regions and judges matches with (see
 * reference-tables.ts for what is stored and why): the products' prototypes, reused from the
 * embedded backend (ProductPrototypes), and the stored regions' label counts for judgeWith.
 */
import type { AcceptanceModel } from '../../acceptance/model.js';
import type { VectorTransform } from '../../embedding/vector-transform.js';
import type { ProductReference } from '../../localization/reference.js';
import { judgeWith, type JudgePhoto } from '../../pipeline/catalog-service.js';
import { ProductPrototypes } from '../../pipeline/product-reference.js';
import type { ReadBefore, StoredReference } from './reference-tables.js';

/** The snapshot fields a replica's reference follows. */
export interface ReferenceSnapshot {
  version: number;
  catalogVersion: number;
  transform: VectorTransform;
  acceptance: AcceptanceModel | undefined;
}

/** One replica's copy of the stored reference, reloaded when the catalog version it was read at moved. */
export class ReplicaReference {
  private readonly prototypes: ProductPrototypes;
  private regionLabels = new Map<string, number>();
  private loaded: { version: number; catalogVersion: number } | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    transform: VectorTransform,
    /** Reads the stored reference, or what changed since `before` (readStoredReference in a transaction). */
    private readonly read: (before?: ReadBefore) => Promise<StoredReference>,
    /** The current snapshot (PgStore.refresh): the transform of sums read after a rebuild swapped. */
    private readonly refresh: () => Promise<ReferenceSnapshot>,
  ) {
    this.prototypes = new ProductPrototypes(transform);
  }

  /** Brings this copy up to `snapshot` (or later); concurrent callers share one read. */
  async follow(snapshot: ReferenceSnapshot): Promise<void> {
    while (!this.isAtLeast(snapshot)) {
      this.loading ??= this.load(snapshot).finally(() => (this.loading = undefined));
      await this.loading;
    }
  }

  /** The prototypes when they changed since the last call (for Extractor.setReference), else undefined. */
  takeChanged(): ProductReference | undefined {
    return this.prototypes.takeChanged();
  }

  /** The judge for `snapshot`'s acceptance model over the loaded label counts. */
  judge(snapshot: ReferenceSnapshot): JudgePhoto {
    const labels = this.regionLabels;
    return judgeWith(snapshot.acceptance, (label) => labels.get(label) ?? 0);
  }

  private isAtLeast(snapshot: ReferenceSnapshot): boolean {
    return this.loaded !== undefined && this.loaded.version >= snapshot.version && this.loaded.catalogVersion >= snapshot.catalogVersion;
  }

  private async load(snapshot: ReferenceSnapshot): Promise<void> {
    for (;;) {
      const stored = await this.read(this.loaded);
      // The sums are in the space of the version they were read at: when a rebuild swapped meanwhile, take its transform.
      const current = stored.version === snapshot.version ? snapshot : await this.refresh();
      if (current.version !== stored.version) continue;
      if (this.loaded?.version === stored.version) {
        // Only what changed since the last read (see readStoredReference).
        if (stored.products) {
          const present = new Set(stored.products);
          for (const productId of [...this.prototypes.products()]) if (!present.has(productId)) this.prototypes.remove(productId);
        }
        for (const { productId, vector } of stored.sums) this.prototypes.set(productId, vector);
      } else {
        this.prototypes.reset(current.transform, stored.sums);
      }
      this.regionLabels = stored.regionLabels;
      this.loaded = { version: stored.version, catalogVersion: stored.catalogVersion };
      return;
    }
  }
}
