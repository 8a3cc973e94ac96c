// An open-addressing hash table from string keys to non-negative integers. Counting puts about a
// million identity keys and logins through one; this is about twice as fast as a Map for that
// (FNV-1a over the key, linear probing, slots in typed arrays), which the benchmark targets need.

export class KeyTable {
  private mask: number;
  private slots: Int32Array;
  private keys: (string | undefined)[];
  private count = 0;

  constructor(expected = 16) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    this.keys = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The value stored under `key`; if there is none, stores `value` and returns -1. */
  getOrAdd(key: string, value: number): number {
    let i = hash(key) & this.mask;
    for (;;) {
      const v = this.slots[i]!;
      if (v === -1) break;
      if (this.keys[i] === key) return v;
      i = (i + 1) & this.mask;
    }
    this.slots[i] = value;
    this.keys[i] = key;
    if (++this.count * 2 > this.mask) this.grow();
    return -1;
  }

  private grow(): void {
    const { slots, keys } = this;
    const capacity = slots.length * 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    this.keys = new Array<string | undefined>(capacity);
    for (let j = 0; j < slots.length; j++) {
      const key = keys[j];
      if (key === undefined) continue;
      let i = hash(key) & this.mask;
      while (this.slots[i] !== -1) i = (i + 1) & this.mask;
      this.slots[i] = slots[j]!;
      this.keys[i] = key;
    }
  }
}

/** FNV-1a over UTF-16 code units. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  // mix the high bits down: the table uses the low ones
  return (h ^ (h >>> 16)) >>> 0;
}
