// The pool's sockets: a COPY's data framed straight from the socket's bytes, whatever the reads'
// cuts, everything else handed to pg as it was; on a connection (PostgreSQL when reachable; always
// when REQUIRE_POSTGRES=1): the same rows as pg's own path, errors and notices mid-COPY, the
// connection usable after.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Socket } from "node:net";
import pg from "pg";
import { copyOutBinary } from "../../src/storage/postgres-copy.js";
import { CopyFramer, CopySocket, poolSocket } from "../../src/storage/postgres-socket.js";
import { PG_URL, postgresReachable, REQUIRE_POSTGRES } from "./support.js";

/** A backend message: its code, its length (counting itself), its body. */
const message = (code: string, body: Uint8Array): Buffer => {
  const head = Buffer.alloc(5);
  head.write(code, 0, "latin1");
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
// CopyOutResponse of 3 binary columns; CopyDone; CommandComplete; ReadyForQuery
const copyOut = message("H", Buffer.from([1, 0, 3, 0, 1, 0, 1, 0, 1]));
const copyDone = message("c", Buffer.alloc(0));
const after = Buffer.concat([message("C", Buffer.from("COPY 2\0")), message("Z", Buffer.from("T"))]);

/** Pushes `bytes` cut at `cuts`; what the framer took and what it handed back. */
function frame(bytes: Buffer, cuts: number[]): { took: Buffer; back: Buffer; done: boolean } {
  const took: Buffer[] = [];
  const back: Buffer[] = [];
  const framer = new CopyFramer((chunk) => took.push(Buffer.from(chunk)));
  let at = 0;
  for (const cut of [...new Set(cuts), bytes.length].sort((a, b) => a - b)) {
    const chunk = bytes.subarray(at, cut);
    at = cut;
    if (framer.done) back.push(chunk);
    else {
      const rest = framer.push(chunk);
      if (rest) back.push(rest);
    }
  }
  return { took: Buffer.concat(took), back: Buffer.concat(back), done: framer.done };
}

describe("COPY framer", () => {
  it("takes the CopyData payloads, wherever the reads cut, and hands back everything from the first other message", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (payloads, raw) => {
        const bytes = Buffer.concat([copyOut, ...payloads.map((p) => message("d", p)), copyDone, after]);
        const got = frame(bytes, raw.map((n) => n % (bytes.length + 1)));
        expect([...got.took]).toEqual([...Buffer.concat(payloads)]);
        expect(got.back.equals(after)).toBe(true);
        expect(got.done).toBe(true);
      }),
    );
  });

  it("hands back a notice in the middle and all after it (pg reads the rest of the COPY then)", () => {
    const notice = message("N", Buffer.from("SNOTICE\0Mhello\0\0"));
    const rest = Buffer.concat([notice, message("d", Buffer.from("second")), copyDone, after]);
    const got = frame(Buffer.concat([copyOut, message("d", Buffer.from("first")), rest]), [3, 11, 17]);
    expect(got.took.toString()).toBe("first");
    expect(got.back.equals(rest)).toBe(true);
  });

  it("takes nothing when the answer does not start as a COPY out does (an error, or bytes pg was in the middle of)", () => {
    for (const bytes of [
      Buffer.concat([message("E", Buffer.from("SERROR\0Mnope\0\0")), message("Z", Buffer.from("I"))]),
      // a CopyOutResponse's code with a length no CopyOutResponse has (even)
      Buffer.concat([Buffer.from([0x48, 0, 0, 0, 8]), Buffer.alloc(4), after]),
      Buffer.from([0x64, 0, 0, 0, 9, 1, 2, 3, 4, 5]),
    ]) {
      const got = frame(bytes, [1, 2, 4]);
      expect(got.took.length).toBe(0);
      expect(got.back.equals(bytes)).toBe(true);
    }
  });
});

describe("pool sockets", () => {
  it("are CopySockets, but where pg puts TLS over the socket", () => {
    const plain = poolSocket as unknown as (config: { ssl?: unknown }) => Socket;
    const ours = plain({});
    const tls = plain({ ssl: { rejectUnauthorized: false } });
    try {
      expect(ours).toBeInstanceOf(CopySocket);
      expect(tls).toBeInstanceOf(Socket);
      expect(tls).not.toBeInstanceOf(CopySocket);
    } finally {
      ours.destroy();
      tls.destroy();
    }
  });
});

const pgUp = await postgresReachable();

if (!pgUp && REQUIRE_POSTGRES) {
  describe("postgres", () => {
    it("is reachable (REQUIRE_POSTGRES=1)", () => {
      throw new Error("PostgreSQL is not reachable at TEST_DATABASE_URL; it is required here");
    });
  });
}

describe.each(pgUp ? [0] : [])("COPY on a pool socket", () => {
  let framed: pg.Client;
  let plain: pg.Client;
  /** CopyData messages pg itself parsed on each client's connection. */
  const viaPg = new Map<pg.Client, number>();
  const client = async (stream?: typeof poolSocket): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: PG_URL, ...(stream ? { stream } : {}) });
    await c.connect();
    viaPg.set(c, 0);
    (c as unknown as { connection: { on(e: string, f: () => void): void } }).connection.on("copyData", () => viaPg.set(c, viaPg.get(c)! + 1));
    return c;
  };
  beforeAll(async () => {
    framed = await client(poolSocket);
    plain = await client();
  });
  afterAll(async () => {
    await framed?.end();
    await plain?.end();
  });

  // rows of several reads each (the socket reads 256 KB at a time): text and binary fields
  const big = "copy (select i, repeat(chr(97 + i % 26), 100000 * i), decode(repeat(lpad(to_hex(i), 2, '0'), 300000), 'hex') from generate_series(1, 8) i order by i) to stdout (format binary)";

  it("reads the same rows as pg's own path, none of its data through pg's parser", async () => {
    const texts = [false, true, false];
    const mine = await copyOutBinary(framed, big, texts);
    const theirs = await copyOutBinary(plain, big, texts);
    expect(mine.length).toBe(8);
    // field by field (jest's deep equality walks a buffer byte by byte)
    const same = (a: unknown, b: unknown) => (Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b);
    expect(mine.every((row, r) => row.length === 3 && row.every((f, k) => same(f, theirs[r]![k])))).toBe(true);
    expect(mine[2]![0]).toEqual(Buffer.from([0, 0, 0, 3]));
    expect((mine[4]![2] as Buffer).equals(Buffer.alloc(300_000, 5))).toBe(true);
    expect((mine[7]![1] as string).length).toBe(800_000);
    expect(viaPg.get(framed)).toBe(0);
    expect(viaPg.get(plain)).toBeGreaterThan(8);
    // and ordinary queries, answers of several reads included, as before
    const text = "select string_agg(md5(i::text), '' order by i) as z, 2 as two from generate_series(1, 40000) i";
    const [{ rows }, { rows: expected }] = await Promise.all([framed.query(text), plain.query(text)]);
    expect(rows[0].z.length).toBe(1_280_000);
    expect(rows[0].z === expected[0].z).toBe(true);
    expect(rows[0].two).toBe(2);
  });

  it("rejects with the server's error in the middle of a COPY, and the connection goes on", async () => {
    const failing = "copy (select case when i < 4 then repeat('x', 300000) else (1 / (i - i))::text end from generate_series(1, 6) i) to stdout (format binary)";
    await expect(copyOutBinary(framed, failing, [true])).rejects.toThrow(/division by zero/);
    expect((await framed.query("select 41 + 1 as n")).rows[0].n).toBe(42);
    expect((await copyOutBinary(framed, "copy (select 'after') to stdout (format binary)", [true]))).toEqual([["after"]]);
  });

  it("takes notices in the middle of a COPY (pg reads the rest of it then): every row whole", async () => {
    await framed.query("create or replace function pg_temp.noisy(i int) returns text language plpgsql as $$ begin raise notice 'row %', i; return repeat(chr(64 + i), 200000); end $$");
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? "");
    framed.on("notice", onNotice);
    try {
      const rows = await copyOutBinary(framed, "copy (select i, pg_temp.noisy(i) from generate_series(1, 5) i) to stdout (format binary)", [false, true]);
      expect(rows.map((r) => r[1])).toEqual([1, 2, 3, 4, 5].map((i) => String.fromCharCode(64 + i).repeat(200_000)));
      expect(notices).toEqual([1, 2, 3, 4, 5].map((i) => `row ${i}`));
    } finally {
      framed.off("notice", onNotice);
    }
  });
});
