import { describe, expect, it } from 'vitest';
import { scrubIds } from '../storage/erased-profiles.js';

const A = '5d589c01-03b1-4329-a5a1-5180a0096477';
const B = '9fc9308f-4ee0-412b-8a1c-1c0d675a5828';

describe('scrubIds', () => {
  it('drops array entries naming an id, keyed entries and bare values, and keeps the rest as it was', () => {
    const report = {
      complaints: 2,
      recentComplaints: [{ profileId: A, text: 'quoted words' }, { profileId: B, text: 'kept' }],
      byProfile: { [A]: 1, [B]: 2 },
      top: A,
      nested: [[A, B], ['x']],
    };
    const { value, removed } = scrubIds(report, new Set([A]));
    expect(value).toEqual({ complaints: 2, recentComplaints: [{ profileId: B, text: 'kept' }], byProfile: { [B]: 2 }, top: null, nested: [['x']] });
    expect(removed).toBe(4);
    expect(JSON.stringify(value)).not.toContain(A);
  });

  it('leaves a value without the ids untouched', () => {
    expect(scrubIds({ a: [1, 'b', null] }, new Set([A]))).toEqual({ value: { a: [1, 'b', null] }, removed: 0 });
  });
});
