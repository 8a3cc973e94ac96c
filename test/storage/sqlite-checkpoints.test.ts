// SQLite's write-ahead log checkpointed by a worker thread (sqlite-checkpoints.ts), run from the
// sources compiled into a folder of this run: the commits leave the log to it, the database file
// gets the pages once asked, a thread that cannot run hands the checkpoints back to the commits, and
// closing ends it (the file's own connection, then the last one, removes the log).
import { describe, expect, it } from "@jest/globals";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Sqlite from "better-sqlite3";
import { checkpointsElsewhere } from "../../src/storage/sqlite-checkpoints.js";
import { compiledSourcesForTests } from "../helpers/compiled-sources.js";

const compiled = compiledSourcesForTests("license-sync-checkpoints-");

const script = () => pathToFileURL(join(compiled.out(), "storage/sqlite-checkpoint-worker.js"));
let files = 0;
function database(): { db: Sqlite.Database; path: string } {
  const path = join(compiled.dir(), `db-${++files}.sqlite`);
  const db = new Sqlite(path);
  db.pragma("journal_mode = WAL");
  db.exec("create table t (x blob)");
  return { db, path };
}
/** 8 MB written in one transaction: 2,000 pages or so, twice SQLite's default threshold. */
const write = (db: Sqlite.Database) => db.prepare("insert into t values (?)").run(Buffer.alloc(8 << 20, 7));
const autocheckpoint = (db: Sqlite.Database) => db.pragma("wal_autocheckpoint", { simple: true });

describe("SQLite checkpoints on a thread of their own", () => {
  it("leaves the log to the thread, which copies the pages into the file once a write asks", async () => {
    const { db, path } = database();
    const checkpoints = checkpointsElsewhere(db, path, script())!;
    expect(checkpoints).not.toBeNull();
    try {
      expect(autocheckpoint(db)).toBe(0);
      write(db);
      // the commit did not checkpoint: the data is in the log only
      expect(statSync(path).size).toBeLessThan(1 << 20);
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(8 << 20);
      checkpoints.written();
      await checkpoints.idle();
      expect(statSync(path).size).toBeGreaterThan(8 << 20);
      // asks while one runs make one more, and all settle
      write(db);
      checkpoints.written();
      checkpoints.written();
      await checkpoints.idle();
      expect(statSync(path).size).toBeGreaterThan(16 << 20);
    } finally {
      await checkpoints.close();
      db.close();
    }
    // the thread's connection closed first: the file's, the last, checkpointed and removed the log
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(db.open).toBe(false);
  });

  it("hands the checkpoints back to the commits when the thread fails", async () => {
    const { db, path } = database();
    const broken = join(compiled.out(), "storage/broken-checkpoint-worker.js");
    writeFileSync(broken, 'throw new Error("cannot start");\n');
    const checkpoints = checkpointsElsewhere(db, path, pathToFileURL(broken))!;
    try {
      expect(autocheckpoint(db)).toBe(0);
      for (let i = 0; i < 200 && autocheckpoint(db) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(autocheckpoint(db)).toBe(1000);
      checkpoints.written(); // a no-op now
      await checkpoints.idle();
      write(db);
      // SQLite's own checkpoint in the commit: the file has the pages
      expect(statSync(path).size).toBeGreaterThan(8 << 20);
    } finally {
      await checkpoints.close();
      db.close();
    }
  });

  it("is not offered where its script is missing (the sources run uncompiled)", () => {
    const { db, path } = database();
    expect(checkpointsElsewhere(db, path, pathToFileURL(join(compiled.out(), "storage/no-such-worker.js")))).toBeNull();
    expect(autocheckpoint(db)).toBe(1000);
    db.close();
  });
});
