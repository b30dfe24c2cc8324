import { describe, expect, it } from 'vitest';
import { DETECTION_DISCOUNT, rankProducts } from '../src/pipeline/answer.js';

const match = (productId: string, score: number, imageId = 1, accepted = true) => ({ productId, score, imageId, accepted, confidence: null });
const bbox: [number, number, number, number] = [0, 0, 10, 10];

describe('one answer for a photo (rankProducts)', () => {
  it('ranks each product by its best match over the objects, best first', () => {
    const ranked = rankProducts([
      { kind: 'whole', label: 'image', bbox, matches: [match('milk', 0.8), match('juice', 0.6)] },
      { kind: 'whole', label: 'image', bbox, matches: [match('juice', 0.7)] },
    ]);
    expect(ranked.map((r) => [r.productId, r.score])).toEqual([
      ['milk', 0.8],
      ['juice', 0.7],
    ]);
  });

  it('lets a detection lead only when it beats the whole photo by the discount', () => {
    const narrow = rankProducts([
      { kind: 'whole', label: 'image', bbox, matches: [match('shelf', 0.7)] },
      { kind: 'region', label: 'banana', bbox, matches: [match('banana', 0.7 + DETECTION_DISCOUNT / 2)] },
    ]);
    expect(narrow[0]!.productId).toBe('shelf');
    const clear = rankProducts([
      { kind: 'whole', label: 'image', bbox, matches: [match('shelf', 0.7)] },
      { kind: 'region', label: 'banana', bbox, matches: [match('banana', 0.7 + DETECTION_DISCOUNT * 2, 9)] },
    ]);
    expect(clear[0]).toMatchObject({ productId: 'banana', via: 'banana', match: { imageId: 9 } });
    expect(clear[0]!.score).toBeCloseTo(0.7 + DETECTION_DISCOUNT, 10);
  });

  it('places each product at the region that matched it, an accepted one first, even when the whole photo named it best', () => {
    const photo: [number, number, number, number] = [0, 0, 1000, 800];
    const pile: [number, number, number, number] = [10, 10, 300, 300];
    const stray: [number, number, number, number] = [500, 500, 600, 600];
    const ranked = rankProducts([
      { kind: 'whole', label: 'image', bbox: photo, matches: [match('banana', 0.9)] },
      { kind: 'region', label: 'banana', bbox: stray, matches: [match('banana', 0.8, 1, false)] },
      { kind: 'region', label: 'object', bbox: pile, matches: [match('banana', 0.6)] },
      { kind: 'region', label: 'object', bbox: stray, matches: [match('kiwi', 0.5, 2, false)] },
    ]);
    expect(ranked.map((r) => [r.productId, r.via, r.bbox, r.accepted])).toEqual([
      ['banana', 'image', pile, true],
      ['kiwi', 'object', stray, false],
    ]);
    expect(rankProducts([{ kind: 'whole', label: 'image', bbox: photo, matches: [match('banana', 0.9)] }])[0]!.bbox).toEqual(photo);
  });

  it('is empty for a photo whose objects matched nothing', () => {
    expect(rankProducts([{ kind: 'whole', label: 'image', bbox, matches: [] }])).toEqual([]);
  });
});
