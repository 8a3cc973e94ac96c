// A stand-in GitHub API on 127.0.0.1 for tests that run the real HTTP stack: the endpoints the
// push path uses (token, config, compare, blobs, commit comments, check runs), for any number of
// repositories, keeping the comments and check runs it is sent, like GitHub would.
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { blobReply, RAW_BLOB_TYPE } from "./exports.js";
import { githubAccount, type Json } from "./payloads.js";

export interface StandInFile {
  path: string;
  blobSha: string;
  bytes: string | Uint8Array;
}

export interface StandInComment {
  id: number;
  body: string;
  /** The author, as GitHub sends it: the app's bot account for comments the app creates. */
  user: Json;
}

export interface StandInIssue {
  number: number;
  state: string;
  body: string;
  title: string;
  locked?: boolean;
  user: Json;
}

export interface StandInCheckRun {
  repo: string;
  head_sha: string;
  conclusion: string;
  output: { title: string };
}

export class GitHubStandIn extends EventEmitter {
  private server: Server | null = null;
  url = "";
  /** The app's slug (GET /app); its comments are written by `<slug>[bot]`. */
  slug = "license-sync";
  /** owner/name -> raw .github/license-sync.yml */
  readonly configs = new Map<string, string>();
  /** "owner/name after" -> files of the comparison before...after */
  readonly pushes = new Map<string, StandInFile[]>();
  /** "owner/name sha" -> comments on that commit */
  readonly comments = new Map<string, StandInComment[]>();
  readonly checkRuns: StandInCheckRun[] = [];
  /** owner/name -> issues created (the dashboard) */
  readonly issues = new Map<string, StandInIssue[]>();
  /** "owner/name #number" -> comments on that issue (the issue path). */
  readonly issueComments = new Map<string, StandInComment[]>();
  /** Every request, "METHOD /path". */
  readonly requests: string[] = [];
  /** Requests no route answered. */
  readonly unknown: string[] = [];
  /**
   * Lists leave out comments and issues made less than this many ms ago, as GitHub's lists can lag
   * behind a write (single reads by id see them at once).
   */
  listLagMs = 0;
  private readonly made = new Map<number, number>();
  private readonly blobs = new Map<string, string | Uint8Array>();
  private nextId = 1;

  /** The app's bot account, whole, as GitHub sends it as a comment's or issue's `user`. */
  private bot(): Json {
    return githubAccount(`${this.slug}[bot]`, "Bot", 1_000_001);
  }

  private newId(): number {
    const id = this.nextId++;
    this.made.set(id, Date.now());
    return id;
  }

  private listed<T extends { id?: number; number?: number }>(list: T[]): T[] {
    if (this.listLagMs === 0) return list;
    const cutoff = Date.now() - this.listLagMs;
    return list.filter((x) => (this.made.get((x.id ?? x.number)!) ?? 0) <= cutoff);
  }

  private findComment(lists: Iterable<StandInComment[]>, id: number): { list: StandInComment[]; comment: StandInComment } | null {
    for (const list of lists) {
      const comment = list.find((x) => x.id === id);
      if (comment) return { list, comment };
    }
    return null;
  }

  /** A push of `files` to `repo` whose head commit is `after`. */
  addPush(repo: string, after: string, files: StandInFile[]): void {
    this.pushes.set(`${repo} ${after}`, files);
    for (const f of files) this.blobs.set(`${repo} ${f.blobSha}`, f.bytes);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.unknown.push(`error ${String(err)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    // GitHub keeps idle connections far longer than Node's 5 s default; a handler busy with a big
    // export for longer would otherwise reuse a socket this server had just closed.
    this.server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? "/", "http://x");
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? "";
    this.requests.push(`${method} ${path}`);
    const json = (status: number, data: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(data));
    };
    const body = () => JSON.parse(text) as Record<string, unknown>;

    if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
      return json(201, { token: "ghs_stand_in", expires_at: "2099-01-01T00:00:00Z" });
    }
    if (method === "GET" && path === "/app") return json(200, { id: 1, slug: this.slug, name: this.slug });
    const m = /^\/repos\/([^/]+\/[^/]+)\/(.*)$/.exec(path);
    const repo = m?.[1] ?? "";
    const rest = m?.[2] ?? "";
    let r: RegExpExecArray | null;
    if (method === "GET" && rest === "contents/.github/license-sync.yml") {
      const config = this.configs.get(repo);
      if (config === undefined) return json(404, { message: "Not Found" });
      res.writeHead(200, { "content-type": "application/vnd.github.raw; charset=utf-8" }).end(config);
      return;
    }
    if (method === "GET" && (r = /^compare\/[0-9a-f]+\.\.\.([0-9a-f]+)$/.exec(rest))) {
      const files = this.pushes.get(`${repo} ${r[1]}`);
      if (!files) return json(404, { message: "Not Found" });
      return json(200, { status: "ahead", files: files.map((f) => ({ filename: f.path, sha: f.blobSha, status: "modified" })) });
    }
    if (method === "GET" && (r = /^git\/blobs\/(\w+)$/.exec(rest))) {
      const bytes = this.blobs.get(`${repo} ${r[1]}`);
      if (bytes === undefined) return json(404, { message: "Not Found" });
      // As GitHub does: the raw bytes when asked for them, else base64 in JSON.
      if (!String(req.headers.accept ?? "").includes("raw")) return json(200, blobReply(r[1]!, Buffer.from(bytes as Uint8Array)));
      res.writeHead(200, { "content-type": RAW_BLOB_TYPE }).end(bytes);
      return;
    }
    if ((r = /^commits\/([0-9a-f]+)\/comments$/.exec(rest))) {
      const key = `${repo} ${r[1]}`;
      const list = this.comments.get(key) ?? [];
      if (method === "GET") return json(200, this.listed(list));
      if (method === "POST") {
        const comment = { id: this.newId(), body: String(body().body), user: this.bot() };
        this.comments.set(key, [...list, comment]);
        return json(201, comment);
      }
    }
    if ((r = /^comments\/(\d+)$/.exec(rest))) {
      const found = this.findComment(this.comments.values(), Number(r[1]));
      if (!found) return json(404, { message: "Not Found" });
      if (method === "GET") return json(200, found.comment);
      if (method === "PATCH") {
        found.comment.body = String(body().body);
        return json(200, found.comment);
      }
      if (method === "DELETE") {
        found.list.splice(found.list.indexOf(found.comment), 1);
        res.writeHead(204).end();
        return;
      }
    }
    // The dashboard issue: none yet, creation accepted (kept, like GitHub would).
    if (rest === "issues") {
      if (method === "GET") return json(200, this.listed(this.issues.get(repo) ?? []));
      if (method === "POST") {
        const issue = { number: this.newId(), state: "open", body: String(body().body), title: String(body().title), user: this.bot() };
        this.issues.set(repo, [...(this.issues.get(repo) ?? []), issue]);
        return json(201, issue);
      }
    }
    if ((r = /^issues\/(\d+)$/.exec(rest))) {
      const issue = (this.issues.get(repo) ?? []).find((i) => i.number === Number(r![1]));
      if (!issue) return json(404, { message: "Not Found" });
      if (method === "GET") return json(200, issue);
      if (method === "PATCH") {
        Object.assign(issue, body());
        return json(200, issue);
      }
    }
    // The issue path: every sender is an admin; labels are accepted and not kept.
    if (method === "GET" && (r = /^collaborators\/([^/]+)\/permission$/.exec(rest))) {
      return json(200, { permission: "admin", role_name: "admin", user: { login: r[1] } });
    }
    if ((r = /^issues\/(\d+)\/comments$/.exec(rest))) {
      const key = `${repo} #${r[1]}`;
      const list = this.issueComments.get(key) ?? [];
      if (method === "GET") return json(200, this.listed(list));
      if (method === "POST") {
        const comment = { id: this.newId(), body: String(body().body), user: this.bot() };
        this.issueComments.set(key, [...list, comment]);
        json(201, comment);
        this.emit("issue-comment", key);
        return;
      }
    }
    if ((r = /^issues\/comments\/(\d+)$/.exec(rest))) {
      const found = this.findComment(this.issueComments.values(), Number(r[1]));
      if (!found) return json(404, { message: "Not Found" });
      const c = found.comment;
      if (method === "GET") return json(200, c);
      if (method === "PATCH") {
        c.body = String(body().body);
        json(200, c);
        this.emit("issue-comment", c.id);
        return;
      }
      if (method === "DELETE") {
        found.list.splice(found.list.indexOf(c), 1);
        res.writeHead(204).end();
        return;
      }
    }
    if (method === "POST" && rest === "labels") return json(201, {});
    if (method === "POST" && /^issues\/\d+\/labels$/.test(rest)) return json(200, []);
    if (method === "POST" && rest === "check-runs") {
      const run = { repo, ...(body() as Omit<StandInCheckRun, "repo">) };
      this.checkRuns.push(run);
      json(201, { id: this.newId() });
      this.emit("check-run", run);
      return;
    }
    this.unknown.push(`${method} ${path}`);
    return json(404, { message: "stand-in has no such route" });
  }
}
