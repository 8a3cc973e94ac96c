// The pushed export read on a worker thread (export-worker.ts) through workerReads, as the app runs
// it: from JavaScript compiled from the sources into a folder of this run (a worker cannot run the
// TypeScript sources the tests run).
import { describe, expect, it, jest } from "@jest/globals";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MessageChannel, Worker, type TransferListItem } from "node:worker_threads";
import { readPlainExportSet } from "../../src/domain/fast-read.js";
import { workerReads } from "../../src/ledger/export-reads.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { compiledSourcesForTests } from "../helpers/compiled-sources.js";
import { exportJson, people } from "../storage/support.js";

const compiled = compiledSourcesForTests("license-sync-export-reads-");

const KEY = "worker test key";
const script = () => pathToFileURL(join(compiled.out(), "ledger/export-worker.js"));
const limit = 64 * 1024 * 1024;

describe("workerReads", () => {
  it("reads an export on a worker to the account set this thread reads, keys hashed alike; the caller's bytes left as they were", async () => {
    const read = workerReads(KEY, script());
    expect(read).not.toBeNull();
    const users = [...people(0, 20_000), { id: 30_001, login: "Zoë", email: "Zoe@X.Example", others: ["zoe@noreply.example"] }];
    const bytes = exportJson("srv-w", "w.example", users);
    const copy = bytes.slice();
    const got = await read!(bytes, "w.json", limit);
    const here = readPlainExportSet(bytes, "w.json", { maxBytes: limit }, createIdentityHasher(KEY))!;
    expect(got).not.toBeNull();
    expect(got!.instance).toStrictEqual(here.instance);
    expect(got!.warnings).toStrictEqual(here.warnings);
    const a = got!.accounts;
    const b = here.accounts;
    expect(a.count).toBe(20_001);
    expect(a.loginText).toBe(b.loginText);
    // compared as bytes: a failing diff of 80,000 numbers would take jest minutes to print
    const same = (x: ArrayBufferView, y: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    for (const k of ["userIds", "loginStart", "primaryStart", "secondaryStart", "keyWords"] as const) expect([k, same(a[k]!, b[k]!)]).toEqual([k, true]);
    expect(Buffer.from(bytes).equals(Buffer.from(copy))).toBe(true);
    // another key hashes otherwise: the key did reach the worker
    const otherKey = await workerReads("another key", script())!(bytes, "w.json", limit);
    expect(otherKey!.accounts.key(0)).not.toBe(a.key(0));
  });

  it("reads shared bytes (a pushed blob) there in place: posted as they are, nothing moved, the caller's still whole; other bytes go as a copy", async () => {
    const read = workerReads(KEY, script())!;
    const plain = exportJson("srv-s", "s.example", people(0, 5_000));
    const shared = new Uint8Array(new SharedArrayBuffer(plain.length));
    shared.set(plain);
    const posts: { bytes: Uint8Array; moved: unknown[] }[] = [];
    const post = Worker.prototype.postMessage;
    const spy = jest.spyOn(Worker.prototype, "postMessage").mockImplementation(function (this: Worker, value: unknown, list?: readonly TransferListItem[]) {
      posts.push({ bytes: (value as { bytes: Uint8Array }).bytes, moved: [...(list ?? [])] });
      return post.call(this, value, list);
    });
    try {
      const there = await read(shared, "s.json", limit);
      const copied = await read(plain, "s.json", limit);
      expect(there!.accounts.count).toBe(5_000);
      expect(there!.accounts.loginText).toBe(copied!.accounts.loginText);
      expect(posts[0]!.bytes).toBe(shared);
      expect(posts[0]!.moved).toEqual([]);
      expect(posts[1]!.bytes).not.toBe(plain);
      expect(posts[1]!.moved).toEqual([posts[1]!.bytes.buffer]);
      expect([shared.length, Buffer.from(shared).equals(plain)]).toEqual([plain.length, true]);
      expect(plain.length).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
    }
  });

  it("makes the room asked for there after the read (zeroed arrays of those lengths, taken once), none unless asked, and ends by itself", async () => {
    const read = workerReads(KEY, script())!;
    const bytes = exportJson("srv-w", "w.example", people(0, 1_000));
    const plain = await read(bytes, "w.json", limit);
    expect(plain!.takeRoom).toBeUndefined();
    const room = [5_000, 1, 70_000];
    const got = await read(bytes, "w.json", limit, room);
    expect(got!.accounts.count).toBe(plain!.accounts.count);
    // made after the read: given time to arrive (a take that finds nothing yet answers null)
    await new Promise((r) => setTimeout(r, 500));
    const made = got!.takeRoom!();
    expect(made?.map((a) => [a.constructor.name, a.length, a.every((v) => v === 0)])).toEqual(room.map((length) => ["Int32Array", length, true]));
    expect(got!.takeRoom!()).toBeNull();
    // not for a file the worker does not read
    expect(await read(new TextEncoder().encode("{}"), "bad.json", limit, room)).toBeNull();
    // the worker ends by itself once its room is posted (a caller that never takes it leaves no thread behind)
    const worker = new Worker(script(), { workerData: { key: KEY } });
    const { port1, port2 } = new MessageChannel();
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage({ bytes, file: "w.json", maxBytes: limit, room: [10], roomPort: port2 }, [port2]);
    expect(await exited).toBe(0);
    port1.close();
  });

  it("answers null for what the usual single pass does not take (the main thread reads and words it), and over the size limit", async () => {
    const read = workerReads(KEY, script())!;
    const invalid = new TextEncoder().encode('{"version":1,"instance":{"server_id":"s","host_name":"h"},"users":[{"user_id":"x"}]}');
    expect(await read(invalid, "bad.json", limit)).toBeNull();
    const bytes = exportJson("srv-w", "w.example", people(0, 10));
    expect(await read(bytes, "w.json", bytes.length - 1)).toBeNull();
  });

  it("answers null when the worker fails to start or dies, and is not offered where its script is missing", async () => {
    const broken = join(compiled.out(), "ledger/broken-worker.js");
    writeFileSync(broken, 'throw new Error("cannot start");\n');
    expect(await workerReads(KEY, pathToFileURL(broken))!(exportJson("s", "h", people(0, 3)), "w.json", limit)).toBeNull();
    const exits = join(compiled.out(), "ledger/exiting-worker.js");
    writeFileSync(exits, "process.exit(3);\n");
    expect(await workerReads(KEY, pathToFileURL(exits))!(exportJson("s", "h", people(0, 3)), "w.json", limit)).toBeNull();
    expect(workerReads(KEY, pathToFileURL(join(compiled.out(), "ledger/no-such-worker.js")))).toBeNull();
  });
});
