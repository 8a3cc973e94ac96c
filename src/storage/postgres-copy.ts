// Rows read with COPY … TO STDOUT (FORMAT binary): each field's bytes as they are stored, where a
// SELECT would send a bytea as hex text (twice its size, encoded by the server, turned into a
// string and decoded again here). pg cannot receive binary result columns; COPY's data it hands,
// unparsed, to the query object (the Submittable interface that pg-cursor also uses).
import type pg from "pg";
import { clientSocket, CopySocket } from "./postgres-socket.js";

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
// Signature, flags (u32), header extension length (u32).
const HEADER = SIGNATURE.length + 8;

/** A field of a row read: bytes, a text (a column marked so), or null. */
export type CopyField = Buffer | string | null;
/** Where a binary field of `length` bytes goes, given its row's fields before it; null: a buffer of its own. */
export type CopyTarget = (row: readonly CopyField[], length: number) => Buffer | null;

/**
 * Parses the binary COPY format from chunks cut anywhere. Each field is copied into a buffer of
 * its own (a whole ArrayBuffer, offset 0: the account-set codec uses such a value in place); a
 * column that `texts` marks comes as its UTF-8 text, decoded straight from the chunk when the field
 * lies whole in one (no buffer of its own to fill and drop: 20 MB of logins at 20 x 100,000).
 */
export class CopyBinaryParser {
  readonly rows: CopyField[][] = [];
  /** The current field's length when it is a text, else -1. */
  private text = -1;
  /**
   * `target`: where a binary field goes (a view of exactly its length, from the row so far), instead
   * of a buffer of its own: the parts of one value, assembled as they come.
   */
  constructor(
    private readonly texts: readonly boolean[] = [],
    private readonly target?: CopyTarget,
  ) {}

  private readonly small = Buffer.alloc(HEADER);
  private need = HEADER;
  private have = 0;
  private state: "header" | "extension" | "count" | "length" | "field" | "end" = "header";
  private row: CopyField[] = [];
  private left = 0;
  private field: Buffer | null = null;
  private filled = 0;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === "end") throw new Error("COPY data after its trailer");
      if (this.state === "field" && this.text >= 0 && !this.field) {
        if (chunk.length - at >= this.text) {
          const value = chunk.toString("utf8", at, at + this.text);
          at += this.text;
          this.fieldDone(value);
          continue;
        }
        this.field = Buffer.allocUnsafeSlow(this.text);
        this.filled = 0;
      }
      if (this.state === "field" || this.state === "extension") {
        const n = Math.min(this.field ? this.field.length - this.filled : this.left, chunk.length - at);
        if (this.field) chunk.copy(this.field, this.filled, at, at + n);
        at += n;
        if (this.field) this.filled += n;
        else this.left -= n;
        if (this.field ? this.filled === this.field.length : this.left === 0) this.fieldDone();
        continue;
      }
      const n = Math.min(this.need - this.have, chunk.length - at);
      chunk.copy(this.small, this.have, at, at + n);
      this.have += n;
      at += n;
      if (this.have < this.need) return;
      this.have = 0;
      this.fixed();
    }
  }

  /** The rows, once the whole COPY has been pushed. */
  end(): CopyField[][] {
    if (this.state !== "end") throw new Error("COPY data ended mid-row");
    return this.rows;
  }

  /** A fixed-size part (in `small`) is complete. */
  private fixed(): void {
    if (this.state === "header") {
      if (!this.small.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error("not binary COPY data");
      this.left = this.small.readUInt32BE(SIGNATURE.length + 4);
      this.state = "extension";
      if (this.left === 0) this.fieldDone();
    } else if (this.state === "count") {
      const count = this.small.readInt16BE(0);
      if (count === -1) {
        this.state = "end";
        return;
      }
      this.row = [];
      this.rows.push(this.row);
      this.left = count;
      this.nextField();
    } else {
      const length = this.small.readInt32BE(0);
      if (length === -1) {
        this.row.push(null);
        this.left--;
        this.nextField();
      } else if (this.texts[this.row.length]) {
        // its buffer only if the field is cut between chunks (see push)
        this.text = length;
        this.state = "field";
        if (length === 0) this.fieldDone("");
      } else {
        const place = this.target?.(this.row, length) ?? null;
        if (place && place.length !== length) throw new Error("COPY field given a place of another length");
        // Not Buffer.allocUnsafe: a small one would be a slice of Node's pool.
        this.field = place ?? Buffer.allocUnsafeSlow(length);
        this.filled = 0;
        this.state = "field";
        if (length === 0) this.fieldDone();
      }
    }
  }

  /** `text`: a text field read straight from a chunk. */
  private fieldDone(text?: string): void {
    if (this.state === "extension") {
      this.state = "count";
      this.need = 2;
      return;
    }
    this.row.push(text ?? (this.text >= 0 ? this.field!.toString("utf8") : this.field));
    this.text = -1;
    this.field = null;
    this.left--;
    this.nextField();
  }

  private nextField(): void {
    if (this.left > 0) {
      this.state = "length";
      this.need = 4;
    } else {
      this.state = "count";
      this.need = 2;
    }
  }
}

/**
 * Runs `text`, a COPY … TO STDOUT (FORMAT binary), on the client; its rows (columns that `texts`
 * marks as strings; binary fields where `target` places them).
 */
export function copyOutBinary(client: pg.ClientBase, text: string, texts: readonly boolean[] = [], target?: CopyTarget): Promise<CopyField[][]> {
  const parser = new CopyBinaryParser(texts, target);
  let failure: unknown = null;
  const take = (chunk: Buffer): void => {
    // Keep reading to the end whatever happens, so that the connection stays in step.
    if (failure) return;
    try {
      parser.push(chunk);
    } catch (err) {
      failure = err;
    }
  };
  return new Promise((resolve, reject) => {
    // What pg calls on the active query for a COPY out: every message until ReadyForQuery.
    const query: pg.Submittable & Record<string, unknown> = {
      submit: (connection) => {
        connection.query(text);
        // on the pool's sockets the data come straight from the socket (see postgres-socket.ts);
        // anything the framer leaves (after a notice, say) comes through handleCopyData
        const socket = clientSocket(client);
        if (socket instanceof CopySocket) socket.readCopy(take);
      },
      handleCopyData: (msg: { chunk: Buffer }) => take(msg.chunk),
      handleCommandComplete: () => undefined,
      // The last call for this query on an error from the server or the connection (no ReadyForQuery).
      handleError: (err: Error) => reject(err),
      handleReadyForQuery: () => {
        if (failure) return reject(failure as Error);
        try {
          resolve(parser.end());
        } catch (err) {
          reject(err as Error);
        }
      },
    };
    client.query(query);
  });
}
