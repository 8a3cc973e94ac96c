// HTTP/1.1 over a plain socket, for tests that need to control the connection (a request queued on
// a kept-alive socket). node:http is not used on purpose: it is one module for the whole jest worker,
// and a nock of an earlier test file may still be hooked into it after its file ended.
import { connect, type Socket } from "node:net";

export interface RawReply {
  status: number;
  body: string;
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** One kept-alive connection; requests go one after the other, each once the previous is answered. */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private ended = false;
  private failure: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", (err) => {
      this.failure = err;
      this.wake();
    });
  }

  /** Connects; rejects (e.g. code ECONNREFUSED) when nothing listens. */
  static open(port: number, host = "127.0.0.1"): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawConnection(socket));
      });
      socket.once("error", reject);
    });
  }

  request(req: RawRequest): Promise<RawReply> {
    const run = this.queue.then(() => this.exchange(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  private async more(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error("connection closed before the reply was complete");
    await new Promise<void>((resolve) => (this.waiting = resolve));
  }

  private async exchange(req: RawRequest): Promise<RawReply> {
    const body = Buffer.from(req.body);
    const head = [`${req.method} ${req.path} HTTP/1.1`, "host: 127.0.0.1", "connection: keep-alive", `content-length: ${body.length}`];
    for (const [k, v] of Object.entries(req.headers)) head.push(`${k}: ${v}`);
    this.socket.write(Buffer.concat([Buffer.from(head.join("\r\n") + "\r\n\r\n"), body]));

    let end: number;
    while ((end = this.buffer.indexOf("\r\n\r\n")) < 0) await this.more();
    const lines = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
    this.buffer = this.buffer.subarray(end + 4);
    const status = Number(lines[0]!.split(" ")[1]);
    const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
    const length = headers.get("content-length");
    if (length !== undefined) {
      while (this.buffer.length < Number(length)) await this.more();
      const text = this.buffer.subarray(0, Number(length)).toString();
      this.buffer = this.buffer.subarray(Number(length));
      return { status, body: text };
    }
    if (headers.get("transfer-encoding")?.includes("chunked")) {
      const parts: Buffer[] = [];
      for (;;) {
        let eol: number;
        while ((eol = this.buffer.indexOf("\r\n")) < 0) await this.more();
        const size = parseInt(this.buffer.subarray(0, eol).toString("latin1"), 16);
        while (this.buffer.length < eol + 2 + size + 2) await this.more();
        parts.push(this.buffer.subarray(eol + 2, eol + 2 + size));
        this.buffer = this.buffer.subarray(eol + 2 + size + 2);
        if (size === 0) return { status, body: Buffer.concat(parts).toString() };
      }
    }
    // No length: the body runs to the end of the connection.
    while (!this.ended && !this.failure) await new Promise<void>((resolve) => (this.waiting = resolve));
    return { status, body: this.buffer.toString() };
  }
}
