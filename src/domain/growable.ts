// Typed arrays that grow as values are appended: the readers collect columns of unknown length
// without a JS array (and its boxed numbers) per column.

/** A copy of `a` in a new array of `length` (at least a's), the rest zero. */
export function grownInts(a: Int32Array, length = 2 * a.length): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

/** An Int32Array that grows. */
export class Ints {
  a: Int32Array;
  n = 0;
  constructor(capacity = 1024) {
    this.a = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const bigger = new Int32Array(Math.max(16, this.n * 2));
      bigger.set(this.a);
      this.a = bigger;
    }
    this.a[this.n++] = v;
  }
  /** The values, in the (larger) buffer they grew in. */
  view(): Int32Array {
    return this.a.subarray(0, this.n);
  }
  /** The values, copied to a buffer of their size (the larger one can go). */
  copy(): Int32Array {
    return this.a.slice(0, this.n);
  }
}

/** A Float64Array that grows. */
export class Floats {
  a: Float64Array;
  n = 0;
  constructor(capacity = 1024) {
    this.a = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const bigger = new Float64Array(Math.max(16, this.n * 2));
      bigger.set(this.a);
      this.a = bigger;
    }
    this.a[this.n++] = v;
  }
  /** The values, in the (larger) buffer they grew in. */
  view(): Float64Array {
    return this.a.subarray(0, this.n);
  }
}
