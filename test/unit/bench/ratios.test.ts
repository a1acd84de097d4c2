// The bench's ratios (bench/types.ts): a paired ratio is the median of its rounds' own ratios, so that one side's fast
// round is never set against the other's slow one; an unpaired one is the ratio of the medians.
import { describe, expect, it } from 'vitest';
import { ratioResult, type Measurement } from '../../../bench/types.js';

// Rounds whose machine sped up by half between the third and the fourth: each round the numerator is 0.8 of the
// denominator, while the medians come from different rounds (8 ÷ 15 = 0.533 as a ratio of the medians).
const metrics: Measurement[] = [
  { metric: 'ours', value: 8, unit: '/s', samples: [8, 8, 8, 12, 12] },
  { metric: 'raw', value: 15, unit: '/s', samples: [10, 10, 10, 15, 15] },
];

describe('bench ratios', () => {
  it('takes the median of the rounds when paired, and records the ratio of the medians beside it', () => {
    const r = ratioResult({ name: 'r', numerator: 'ours', denominator: 'raw', floor: 0.75, paired: true }, metrics);
    expect(r.value).toBeCloseTo(0.8);
    expect(r.rounds).toEqual([0.8, 0.8, 0.8, 0.8, 0.8].map((x) => expect.closeTo(x)));
    expect(r.ofMedians).toBeCloseTo(8 / 15);
    expect(r.pass).toBe(true);
  });

  it('is the ratio of the medians when not paired', () => {
    const r = ratioResult({ name: 'r', numerator: 'ours', denominator: 'raw', floor: 0.75 }, metrics);
    expect(r.value).toBeCloseTo(8 / 15);
    expect(r.rounds).toBeUndefined();
    expect(r.pass).toBe(false);
  });

  it('refuses a paired ratio whose metrics do not have the same rounds', () => {
    const uneven: Measurement[] = [metrics[0]!, { metric: 'raw', value: 10, unit: '/s', samples: [10, 10] }];
    expect(() => ratioResult({ name: 'r', numerator: 'ours', denominator: 'raw', floor: 0, paired: true }, uneven)).toThrow(/same rounds/);
    const single: Measurement[] = [{ metric: 'ours', value: 8, unit: '/s' }, { metric: 'raw', value: 10, unit: '/s' }];
    expect(() => ratioResult({ name: 'r', numerator: 'ours', denominator: 'raw', floor: 0, paired: true }, single)).toThrow(/same rounds/);
  });

  it('checks a ceiling against the value', () => {
    const r = ratioResult({ name: 'r', numerator: 'raw', denominator: 'ours', floor: 0, ceiling: 1.2, paired: true }, metrics);
    expect(r.value).toBeCloseTo(1.25);
    expect(r.pass).toBe(false);
  });
});
