// PostgreSQL adapter: a pg Pool shared by the app; several replicas may use one database. A write
// locks its ledger's row (SELECT … FOR UPDATE) for the whole transaction, so uploads to one ledger
// serialise across replicas while other ledgers proceed.
import { AbortedTransactionError, Kysely, PostgresDialect, sql, type PostgresPoolClient } from "kysely";
import { once } from "node:events";
import pg from "pg";
import { encodeCloudMember, type DialectOps, type StoredAccountSet } from "./kysely-store.js";
import { copyOutBinary, type CopyField, type CopyTarget } from "./postgres-copy.js";
import { clientSocket, poolSocket } from "./postgres-socket.js";
import type { Database } from "./schema.js";

/** Bytes of a large value per COPY row when read in parts (see Parts). */
export const COPY_PART = 1 << 20;
/** A bytea column's parts: each part's number (int4) and bytes, a row each (with partNumbers in the FROM list; in any order). */
const partsOf = (column: string) => `k::int4, substring(${column} from 1 + k * ${COPY_PART} for ${COPY_PART})`;
const partNumbers = (column: string) => `generate_series(0, greatest(length(${column}) - 1, 0) / ${COPY_PART}) as k`;

/**
 * A large value read in parts of COPY_PART bytes, a COPY row each, each written where it belongs in
 * one buffer of the value's length (asked first) as it comes: pg takes in a COPY row whole before
 * handing it on, growing a buffer by doubling, so one row of the whole value cost ~3 times its size
 * in fresh memory. The buffer is a whole one of its own (offset 0): the codecs read it in place.
 * Stored uncompressed (EXTERNAL), a part reads only its own chunks. No ORDER BY: sorting rows of a
 * megabyte spilled to disk.
 */
export class Parts {
  private readonly data: Buffer;
  private readonly seen: Uint8Array;
  private left: number;
  constructor(length: number) {
    this.data = Buffer.allocUnsafeSlow(length);
    this.left = Math.max(1, Math.ceil(length / COPY_PART));
    this.seen = new Uint8Array(this.left);
  }

  /** The place of a row's part (its number the field before: row.at(-1)), of `length` bytes. */
  part(row: readonly CopyField[], length: number): Buffer {
    const k = row.at(-1);
    const n = Buffer.isBuffer(k) && k.length === 4 ? k.readInt32BE(0) : -1;
    const from = n * COPY_PART;
    if (!(n >= 0 && n < this.seen.length) || this.seen[n] || length !== Math.min(COPY_PART, this.data.length - from)) throw new Error("COPY: a part out of place");
    this.seen[n] = 1;
    this.left--;
    return this.data.subarray(from, from + length);
  }

  /** The value, once every part has come. */
  whole(): Buffer {
    if (this.left !== 0) throw new Error("COPY: parts of a value missing");
    return this.data;
  }
}

/**
 * Resolves once what the client has sent is written to its socket (or `query` has settled): where
 * the socket takes a large message in parts, the rest would wait for an event loop the caller is
 * about to keep busy. Without the socket (see clientSocket), resolves at once.
 */
async function written(client: pg.ClientBase, query: Promise<unknown>): Promise<void> {
  const stream = clientSocket(client);
  if (!stream) return;
  let settled = false;
  void query.finally(() => (settled = true)).catch(() => undefined);
  while (!settled && !stream.destroyed && stream.writableLength > 0) {
    // drained at once when the socket took all but a little; otherwise on its 'drain' (or the query's end)
    if (!stream.writableNeedDrain) await new Promise((resolve) => setImmediate(resolve));
    else {
      const stop = new AbortController();
      await Promise.race([once(stream, "drain", { signal: stop.signal }).catch(() => undefined), query.catch(() => undefined)]);
      stop.abort();
    }
  }
}

/** Rows per INSERT … SELECT FROM unnest(): a few array parameters whatever the size; chunked to bound memory. */
const ROWS_PER_INSERT = 50_000;

/**
 * The dialect's operations over the pool. A transaction checks out a connection itself and runs
 * kysely over that one connection, so that a query kysely cannot express (COPY, which takes the
 * pg client) is part of the same transaction.
 */
function postgresOpsFor(pool: pg.Pool): DialectOps {
  const kyselyOf = new WeakMap<pg.PoolClient, Kysely<Database>>();
  const clientOf = new WeakMap<Kysely<Database>, pg.PoolClient>();
  /** Kysely over one pooled connection, made once per connection; the transaction returns it to the pool. */
  const onClient = (client: pg.PoolClient) => {
    let tx = kyselyOf.get(client);
    if (!tx) {
      const handle: PostgresPoolClient = { query: client.query.bind(client) as PostgresPoolClient["query"], release: () => undefined };
      tx = new Kysely<Database>({ dialect: new PostgresDialect({ pool: { connect: async () => handle, end: async () => undefined, options: {} } }) });
      kyselyOf.set(client, tx);
      clientOf.set(tx, client);
    }
    return tx;
  };
  /**
   * The rows of a select of one ledger's rows, sent by COPY in binary on the transaction's own
   * connection. COPY takes no parameters: the ledger id is checked to be an integer and, like any
   * other value, written into the select as a literal (`select` gets the client for escapeLiteral).
   */
  const copyRows = (tx: Kysely<Database>, repoId: number, what: string, select: (client: pg.PoolClient) => string, texts: readonly boolean[] = [], target?: CopyTarget) => {
    const client = clientOf.get(tx);
    if (!client) throw new Error(`${what}: not in a transaction of this store`);
    if (!Number.isSafeInteger(repoId)) throw new Error(`${what}: the ledger id is not an integer`);
    return copyOutBinary(client, `copy (${select(client)}) to stdout (format binary)`, texts, target);
  };
  return {
    name: "postgres",
    async transaction(_db, mode, fn) {
      const client = await pool.connect();
      // Back to the pool only when the transaction ended cleanly; otherwise the connection is closed.
      let clean = false;
      try {
        // A read: one snapshot for the whole read, so a summary never mixes two uploads.
        await client.query(mode === "read" ? "start transaction isolation level repeatable read read only" : "begin");
        let result: Awaited<ReturnType<typeof fn>>;
        try {
          result = await fn(onClient(client));
        } catch (err) {
          await client.query("rollback").then(
            () => (clean = true),
            () => undefined,
          );
          throw err;
        }
        const done = await client.query("commit");
        clean = true;
        // A statement failed and fn went on: PostgreSQL completes COMMIT with a ROLLBACK tag (as kysely checks).
        if (done.command === "ROLLBACK") throw new AbortedTransactionError();
        return result;
      } finally {
        client.release(!clean);
      }
    },
    async lockLedger(tx, repoId) {
      await tx.selectFrom("ledgers").select("repo_id").where("repo_id", "=", repoId).forUpdate().execute();
    },
    async insertCloudMembers(tx, repoId, members) {
      for (let i = 0; i < members.length; i += ROWS_PER_INSERT) {
        const chunk = members.slice(i, i + ROWS_PER_INSERT).map(encodeCloudMember);
        await sql`
          insert into cloud_members (ledger_id, ordinal, login, keys, links, visual_studio)
          select ${repoId}, t.ordinal, t.login, t.keys, t.links, t.visual_studio
          from unnest(${sql.val(chunk.map((_, j) => i + j))}::integer[],
                      ${sql.val(chunk.map((m) => m.login))}::text[],
                      ${sql.val(chunk.map((m) => m.keys))}::text[],
                      ${sql.val(chunk.map((m) => m.links))}::text[],
                      ${sql.val(chunk.map((m) => m.visual_studio))}::integer[]) as t(ordinal, login, keys, links, visual_studio)
        `.execute(tx);
      }
    },
    // The set's insert sent on the transaction's connection, resolved once its bytes are written to
    // the socket: the server stores the set (~20 ms for the 6 MB of 100,000 accounts) while the
    // caller counts the ledger (as long again), where awaiting the insert first made them one after
    // the other. The connection runs nothing else meanwhile: pg queues what comes next.
    async sendAccountSet(tx, row) {
      const client = clientOf.get(tx);
      if (!client) throw new Error("sendAccountSet: not in a transaction of this store");
      const stored = client.query("insert into account_sets (ledger_id, server_id, account_count, logins, data) values ($1, $2, $3, $4, $5)", [
        row.ledger_id,
        row.server_id,
        row.account_count,
        row.logins,
        row.data,
      ]);
      // never unobserved: the caller awaits it, but may fail before it does
      stored.catch(() => undefined);
      await written(client, stored);
      return { stored: stored.then(() => undefined) };
    },
    // With COPY, binary: a SELECT sends a bytea as hex text, 160 MB of it for the 80 MB of 20 x
    // 100,000 accounts, encoded by the server and decoded here (that read: ~0.55 s, with COPY ~0.2 s).
    async accountSets(tx, repoId, serverId) {
      // server_id and logins as texts, straight from pg's chunks
      const rows = await copyRows(
        tx,
        repoId,
        "accountSets",
        (client) => {
          const only = serverId === undefined ? "" : ` and server_id = ${client.escapeLiteral(serverId)}`;
          return `select server_id, logins, data from account_sets where ledger_id = ${repoId}${only} order by server_id`;
        },
        [true, true, false],
      );
      return rows.map((r): StoredAccountSet => {
        const [serverId, logins, data] = r;
        if (r.length !== 3 || typeof serverId !== "string" || typeof logins !== "string" || !Buffer.isBuffer(data)) throw new Error("accountSets: unexpected COPY row");
        return { server_id: serverId, logins, data };
      });
    },
    // A ledger's interned ids (~16 MB at 20 x 100,000) in parts (see Parts): one 16 MB row cost ~50 MB
    // of fresh memory (12,000 page faults, ~0.3 s after a restart).
    async ledgerIds(tx, repoId) {
      const length = await tx.selectFrom("ledger_ids").select(sql<number | string>`length(data)`.as("n")).where("ledger_id", "=", repoId).executeTakeFirst();
      if (!length) return null;
      const data = new Parts(Number(length.n));
      await copyRows(tx, repoId, "ledgerIds", () => `select ${partsOf("data")} from ledger_ids, ${partNumbers("data")} where ledger_id = ${repoId}`, [], (row, n) => (row.length === 1 ? data.part(row, n) : null));
      return data.whole();
    },
  };
}

export interface PostgresOptions {
  /** Schema to use (created if missing) instead of the connection's default search_path. */
  schema?: string;
  max?: number;
  onPoolError?: (err: Error) => void;
}

export async function createPostgres(url: string, options: PostgresOptions = {}): Promise<{ db: Kysely<Database>; ops: DialectOps }> {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  if (schema) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`create schema if not exists ${schema}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    stream: poolSocket,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", options.onPoolError ?? (() => undefined));
  // Nor a checked-out one: a backend killed between two statements of a transaction (failover,
  // admin, idle timeout) emits 'error' on the client, which the pool only listens to while idle.
  // The transaction's next statement fails and the write is rolled back and thrown instead.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), ops: postgresOpsFor(pool) };
}
