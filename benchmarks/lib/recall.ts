/**
 * recall@k of one answer against the exact answer: the share of the exact top-k ids that the
 * approximate top-k contains (ties at the k-th score make this a slight underestimate).
 */
export function recallAtK(exactIds: readonly string[], foundIds: readonly string[], k: number): number {
  const truth = exactIds.slice(0, k);
  if (truth.length === 0) return 1;
  const found = new Set(foundIds.slice(0, k));
  let hits = 0;
  for (const id of truth) if (found.has(id)) hits++;
  return hits / truth.length;
}
