import { describe, expect, it } from 'vitest';
import { countDelivery, deliveredExactly } from './line-delivery.js';

describe('counting the log lines a client received', () => {
  it('passes when every line arrived once and in order', () => {
    const count = countDelivery(4, [0, 1, 2, 3]);
    expect(count).toEqual({ sent: 4, received: 4, missing: 0, duplicated: 0, outOfOrder: 0, unknown: 0 });
    expect(deliveredExactly(count)).toBe(true);
  });

  it('fails and counts the lines that never arrived', () => {
    const count = countDelivery(5, [0, 2, 4]);
    expect(count.missing).toBe(2);
    expect(deliveredExactly(count)).toBe(false);
  });

  it('fails and counts a line received twice', () => {
    const count = countDelivery(3, [0, 1, 1, 2]);
    expect(count).toMatchObject({ received: 4, missing: 0, duplicated: 1 });
    expect(deliveredExactly(count)).toBe(false);
  });

  it('fails and counts a line that arrived after a later one', () => {
    const count = countDelivery(4, [0, 2, 1, 3]);
    expect(count).toMatchObject({ missing: 0, duplicated: 0, outOfOrder: 1 });
    expect(deliveredExactly(count)).toBe(false);
  });

  it('fails on a line that was never sent', () => {
    const count = countDelivery(2, [0, 1, 7]);
    expect(count.unknown).toBe(1);
    expect(deliveredExactly(count)).toBe(false);
  });
});
