/**
 * The consistency check after a crash or a soak: on a catalog opened after the service stopped, every
 * acknowledged image is stored under its product and found by every index (its own stored whole-image
 * vector comes back top-1 as its product, or tied with the top when the same photo is stored under several products), and every deleted product is stored nowhere and found by none.
 */
import type { IndexKind } from '../../src/indexing/types.js';
import { INDEXED_KIND } from '../../src/pipeline/catalog-indexes.js';
import type { CatalogSearch } from '../../src/pipeline/catalog-search.js';

export interface ConsistencyReport {
  /** Acknowledged images checked, and whole-image vectors searched in each index. */
  images: number;
  searched: number;
  /** Each problem found, in words; empty when consistent. */
  problems: string[];
}

const INDEXES: IndexKind[] = ['lsh', 'hnsw', 'exact'];
/**
 * Scores this close to the top are a tie (the same photo's vector). Not closer: an index sums in its
 * own order (HNSW, which LSH falls back to for a long list, in hnswlib), so one vector's score moves
 * by a few 1e-7 between two searches.
 */
const TIE = 1e-4;
/** Most products asked for when the top five all tie. */
const MAX_TIED = 100;

/** `acknowledged`: product → image ids answered 201 and not deleted since; `deleted`: products answered 204. */
export async function checkConsistency(catalogSearch: CatalogSearch, acknowledged: Map<string, Set<number>>, deleted: Set<string>): Promise<ConsistencyReport> {
  const problems: string[] = [];
  const refs = new Map([...catalogSearch.catalog.objectRefs()].map((ref) => [String(ref.id), ref]));
  const wholeImages = [...catalogSearch.catalog.vectors(INDEXED_KIND)];
  const productOfImage = new Map(wholeImages.map(([id]) => [refs.get(id)!.imageId, refs.get(id)!.productId]));
  let images = 0;
  for (const [productId, imageIds] of acknowledged) {
    for (const imageId of imageIds) {
      images += 1;
      if (productOfImage.get(imageId) !== productId) problems.push(`acknowledged image ${imageId} of ${productId} is not stored under it`);
    }
  }
  for (const productId of deleted) if (catalogSearch.product(productId)) problems.push(`deleted product ${productId} is still stored`);
  for (const [id, vector] of wholeImages) {
    const productId = refs.get(id)!.productId;
    for (const index of INDEXES) {
      const { matches } = await catalogSearch.matchVector(vector, index, 5, -1);
      // The same photo stored under several products ties at the top: any of them may come first, and
      // when more than five tie, every product at the top score is asked for.
      const top = matches[0]?.score ?? Number.NaN;
      const tied = matches.length === 5 && matches[4]!.score >= top - TIE ? (await catalogSearch.matchVector(vector, index, MAX_TIED, top - TIE)).matches : matches;
      if (!tied.some((match) => match.productId === productId && match.score >= top - TIE)) {
        problems.push(`${index} does not find object ${id} of ${productId} at the top (top: ${matches[0]?.productId})`);
      }
      const ghost = matches.find((match) => deleted.has(match.productId));
      if (ghost) problems.push(`${index} still finds deleted product ${ghost.productId}`);
    }
  }
  return { images, searched: wholeImages.length, problems };
}
