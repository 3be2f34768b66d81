// What a log client received against what was sent: the bench numbers its
// lines 0..sent-1 and this tells which never arrived, which arrived twice and
// how many arrived after a later one.

export interface DeliveryCount {
  sent: number;
  /** Lines received, duplicates included. */
  received: number;
  missing: number;
  duplicated: number;
  /** Lines that arrived after a line sent later than them. */
  outOfOrder: number;
  /** Received numbers that were never sent. */
  unknown: number;
}

export function countDelivery(sent: number, received: readonly number[]): DeliveryCount {
  const seen = new Set<number>();
  let duplicated = 0;
  let outOfOrder = 0;
  let unknown = 0;
  let highest = -1;
  for (const number of received) {
    if (!Number.isInteger(number) || number < 0 || number >= sent) {
      unknown += 1;
      continue;
    }
    if (seen.has(number)) duplicated += 1;
    else if (number < highest) outOfOrder += 1;
    seen.add(number);
    highest = Math.max(highest, number);
  }
  return { sent, received: received.length, missing: sent - seen.size, duplicated, outOfOrder, unknown };
}

/** Whether every line arrived once, in the order sent. */
export function deliveredExactly(count: DeliveryCount): boolean {
  return count.missing === 0 && count.duplicated === 0 && count.outOfOrder === 0 && count.unknown === 0;
}
