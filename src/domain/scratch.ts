// Working arrays kept between counts (issue #13): a count of 2 million accounts makes some 100 MB
// of typed arrays, and allocating them (zeroed) and collecting them again costs more than some of
// the passes over them. A count takes each array here by its slot; what it held before is garbage
// to the new count, which fills whatever it reads before writing it.

/** The count's arrays, one slot each (two arrays alive at once never share a slot). */
export const Slot = {
  Parent: 0,
  InstanceOf: 1,
  EmailOwner: 2,
  LoginOwner: 3,
  Pairs: 4,
  PairLogins: 5,
  Root: 6,
  Mask: 7,
  SavingsStart: 8,
  SavingsOthers: 9,
  SavingsFirst: 10,
  SavingsLast: 11,
  SavingsSeen: 12,
} as const;
export type Slot = (typeof Slot)[keyof typeof Slot];
const SLOTS = 13;

/**
 * Int32Arrays by slot, grown as needed and never shrunk (held: the largest count's). Valid until
 * the next count made with the same scratch: whatever keeps arrays past its count (a report's lazy
 * lists) must not take them from here. Not for two counts at once (counts are synchronous).
 */
export class CountScratch {
  private readonly buffers: (Int32Array | undefined)[] = new Array(SLOTS).fill(undefined);

  /** `length` ints of slot's buffer, filled with `fill` when given; else holding anything. */
  ints(slot: Slot, length: number, fill?: number): Int32Array {
    let b = this.buffers[slot];
    if (!b || b.length < length) {
      b = new Int32Array(withRoom(length));
      this.buffers[slot] = b;
      if (fill === 0) return b.subarray(0, length);
    }
    const out = b.subarray(0, length);
    if (fill !== undefined) out.fill(fill);
    return out;
  }

  /** The parts of `room` (lengths by slot, see countRoom) this scratch has no array of that length for. */
  lacking(room: readonly SlotRoom[]): SlotRoom[] {
    return room.filter(({ slot, length }) => (this.buffers[slot]?.length ?? -1) < length);
  }

  /** `array` (made elsewhere, e.g. already paged in) as slot's buffer, unless that one is as long. */
  adopt(slot: Slot, array: Int32Array): void {
    if ((this.buffers[slot]?.length ?? -1) < array.length) this.buffers[slot] = array;
  }
}

/** A slot's array length, with some room: a ledger growing by an instance at a time does not reallocate each push. */
export const withRoom = (length: number): number => length + (length >>> 3);

/** An array a count is expected to take from a slot, and its length. */
export interface SlotRoom {
  slot: Slot;
  length: number;
}

/** slot's array from `scratch`, or a new one without; filled with `fill` when given (a new one is zeros). */
export function ints(scratch: CountScratch | undefined, slot: Slot, length: number, fill?: number): Int32Array {
  if (scratch) return scratch.ints(slot, length, fill);
  const a = new Int32Array(length);
  if (fill !== undefined && fill !== 0) a.fill(fill);
  return a;
}
