// The pool's sockets (plain TCP): each reads into one buffer of its own (net's `onread`) instead of a
// new buffer per read, and hands a COPY … TO STDOUT's data straight to its reader. pg's message
// parser takes in each COPY row whole, growing a buffer by doubling, so a set of 5 MB cost a copy in
// memory never touched before; and a new buffer per 64 KB read is fresh memory again until the next
// collection. After a restart, reading the sets of 20 x 100,000 accounts (106 MB) that way made
// 12,000-17,000 page faults beyond the values' own: 0.13-0.2 s on a VM where a first touch is slow.
import net from "node:net";
import type { Writable } from "node:stream";
import type pg from "pg";

/** Bytes a socket reads at most at a time, into its one buffer. */
const READ_BUFFER = 256 * 1024;

const COPY_OUT_RESPONSE = 0x48; // 'H'
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
/** CopyOutResponse: length (4), overall format (1), column count (2), a format (2) per column (at most 1,664). */
const copyOutLength = (length: number) => length >= 7 && length <= 7 + 2 * 1664 && length % 2 === 1;

/**
 * The server's messages for one COPY … TO STDOUT, framed from the socket's bytes: CopyOutResponse,
 * then each CopyData's payload given to `data` as it comes (a view of the socket's buffer: valid
 * only during the call), then CopyDone. The first message that is not one of those ends it (the
 * CommandComplete that follows, an ErrorResponse, a notice): it and all after it are pg's again.
 * A first message that is not a CopyOutResponse ends it at once, taking nothing.
 */
export class CopyFramer {
  done = false;
  private readonly head = Buffer.alloc(5);
  private have = 0;
  private left = 0;
  private code = 0;
  private first = true;

  constructor(private readonly data: (chunk: Buffer) => void) {}

  /** Takes what belongs to the COPY; returns the rest (from the first message not its own), or null. */
  push(chunk: Buffer): Buffer | null {
    let at = 0;
    while (at < chunk.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - at);
        if (this.code === COPY_DATA) this.data(chunk.subarray(at, at + n));
        at += n;
        this.left -= n;
        continue;
      }
      const n = Math.min(5 - this.have, chunk.length - at);
      chunk.copy(this.head, this.have, at, at + n);
      this.have += n;
      at += n;
      if (this.have < 5) return null;
      const code = this.head[0]!;
      const length = this.head.readUInt32BE(1);
      const ours = this.first
        ? code === COPY_OUT_RESPONSE && copyOutLength(length)
        : (code === COPY_DATA && length >= 4) || (code === COPY_DONE && length === 4);
      if (!ours) {
        this.done = true;
        return Buffer.concat([this.head, chunk.subarray(at)]);
      }
      this.first = false;
      this.code = code;
      this.have = 0;
      this.left = length - 4;
    }
    return null;
  }
}

/**
 * A socket for pg that reads into a buffer of its own and gives pg a copy of what it read (pg's
 * parser may keep a chunk it is given), except a COPY's data while a framer (readCopy) takes them.
 */
export class CopySocket extends net.Socket {
  private framer: CopyFramer | null = null;

  constructor() {
    // the callback is made before the socket is (it is the socket's reading)
    const to: { socket?: CopySocket } = {};
    const onread: net.OnReadOpts = {
      buffer: Buffer.allocUnsafeSlow(READ_BUFFER),
      callback: (n, buffer) => {
        to.socket!.received(Buffer.from(buffer.buffer, buffer.byteOffset, n));
        return true; // go on reading
      },
    };
    // typed for connect's options only; net reads it where it makes the socket (net.connect passes it here)
    super({ onread } as net.SocketConstructorOpts);
    to.socket = this;
  }

  /**
   * The data of the COPY … TO STDOUT just sent (call it right after sending, before its answer can
   * arrive), to `data` as they come; everything else goes to pg as usual.
   */
  readCopy(data: (chunk: Buffer) => void): void {
    this.framer = new CopyFramer(data);
  }

  private received(chunk: Buffer): void {
    const framer = this.framer;
    if (!framer) {
      this.emit("data", Buffer.from(chunk));
      return;
    }
    // what the framer hands back is a copy already
    const rest = framer.push(chunk);
    if (framer.done) this.framer = null;
    if (rest) this.emit("data", rest);
  }
}

/**
 * pg's `stream` option, which pg calls with the connection's settings (its types say no argument): a
 * CopySocket, but where pg will put TLS over the socket (a plain one then, as pg makes).
 */
export const poolSocket = ((config?: { ssl?: unknown }): net.Socket => (config?.ssl ? new net.Socket() : new CopySocket())) as () => net.Socket;

/** The client's socket, where pg keeps it (not public API; a test holds it to that): null when not there. */
export function clientSocket(client: pg.ClientBase): Writable | null {
  const stream = (client as unknown as { connection?: { stream?: Writable } }).connection?.stream;
  return stream && typeof stream.writableLength === "number" ? stream : null;
}
