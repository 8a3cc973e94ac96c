// Export files for tests, built in code (no customer data; not copies of the shared samples).
import { randomBytes } from "node:crypto";
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

/** One row of a GHEC license report built for a test (made-up people). */
export interface TestMember {
  login: string;
  /** Verified-domain e-mails. */
  emails?: string[];
  nameId?: string;
  /** enterprise_server_user_ids items, "host:id". */
  links?: string[];
  /** github_com_user; default true (a cloud member). */
  member?: boolean;
  /** license_type; default "Enterprise". */
  license?: string;
}

const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** A GHEC license report CSV with the columns the contract needs, CRLF line ends. */
export function cloudCsv(members: readonly TestMember[]): string {
  const header = "github_com_login,github_com_user,github_com_verified_domain_emails,github_com_saml_name_id,license_type,enterprise_server_user_ids";
  const rows = members.map((m) =>
    [m.login, String(m.member ?? true), (m.emails ?? []).join(","), m.nameId ?? "", m.license ?? "Enterprise", (m.links ?? []).join(",")]
      .map(csvCell)
      .join(","),
  );
  return [header, ...rows, ""].join("\r\n");
}

/** One page of the consumed-licenses API (`total_seats_consumed` as given). */
export function cloudJson(members: readonly TestMember[], totalSeatsConsumed: number): string {
  return JSON.stringify({
    total_seats_consumed: totalSeatsConsumed,
    total_seats_purchased: totalSeatsConsumed + 10,
    users: members.map((m) => ({
      github_com_login: m.login,
      github_com_user: m.member ?? true,
      github_com_verified_domain_emails: m.emails ?? [],
      github_com_saml_name_id: m.nameId ?? null,
      license_type: m.license ?? "Enterprise",
      enterprise_server_user_ids: m.links ?? [],
    })),
  });
}

/**
 * People `from`..`to-1` as one instance's export, in the export's real shape. `noise` random bytes
 * per account (as base64 in profile_name) make the file as hard to compress as the test needs.
 */
export function bigExport(serverId: string, host: string, from: number, to: number, noise = 0): string {
  const parts: string[] = [`{"version":1,"instance":{"server_id":"${serverId}","host_name":"${host}","version":"3.17.4","http_only":false},"users":[`];
  const random = noise > 0 ? randomBytes((to - from) * noise).toString("base64") : "";
  const width = Math.ceil((noise * 4) / 3);
  for (let i = from; i < to; i++) {
    const name = noise > 0 ? random.slice((i - from) * width, (i - from + 1) * width) : `Person ${i}`;
    parts.push(
      (i > from ? "," : "") +
        `{"user_id":${i + 1},"login":"user${i}","profile_name":"${name}","site_admin":false,"created_at":"2019-03-11 21:19:53 +0000",` +
        `"emails":[{"email":"Person.${i}@Corp.Example","primary":true},{"email":"user${i}@users.noreply.corp.example","primary":false}]}`,
    );
  }
  parts.push("]}");
  return parts.join("");
}
