// Export files for tests, built in code (no customer data; not copies of the shared samples).
import { gzipSync } from "node:zlib";

export interface TestUser {
  id: number;
  login: string;
  email?: string;
}

export function exportJson(serverId: string, hostName: string, users: TestUser[], version = "3.17.4"): string {
  return JSON.stringify(
    {
      version: 1,
      instance: { server_id: serverId, host_name: hostName, version },
      users: users.map((u) => ({
        user_id: u.id,
        login: u.login,
        emails: u.email ? [{ email: u.email, primary: true }] : [],
      })),
    },
    null,
    2,
  );
}

/** n users u1..un with addresses u<i>@corp.example (the overlap is decided by the id ranges). */
export function users(from: number, to: number): TestUser[] {
  const out: TestUser[] = [];
  for (let i = from; i <= to; i++) out.push({ id: i, login: `user${i}`, email: `u${i}@corp.example` });
  return out;
}

export const gzip = (text: string): Buffer => gzipSync(Buffer.from(text));

/** The content type GitHub gives a blob asked for raw: note the charset, even for gzip bytes. */
export const RAW_BLOB_TYPE = "application/vnd.github.raw; charset=utf-8";

/** nock reply arguments for a blob asked for raw (`accept: application/vnd.github.raw+json`), as GitHub serves it. */
export function rawBlob(bytes: Buffer | Uint8Array | string): [number, Buffer, Record<string, string>] {
  return [200, Buffer.from(bytes as Uint8Array), { "content-type": RAW_BLOB_TYPE }];
}

/** The blobs API answer in its JSON form (base64), which a server may still send. */
export function blobReply(sha: string, bytes: Buffer | string) {
  const b = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  return { sha, size: b.length, url: `https://api.github.com/repos/x/y/git/blobs/${sha}`, node_id: "B", encoding: "base64", content: b.toString("base64") };
}
