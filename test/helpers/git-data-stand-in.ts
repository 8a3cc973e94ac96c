// A stand-in GitHub API on 127.0.0.1 for `license-sync upload` run as a separate process (the
// examples' scripts): one repository, one branch, the Git Data API endpoints the upload uses.
// It keeps the blobs and commits it is sent, as GitHub would.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInCommit {
  sha: string;
  message: string;
  parents: string[];
  /** path -> blob sha, the whole tree of the commit (flat). */
  files: Map<string, string>;
}

export class GitDataStandIn {
  private server: Server | null = null;
  url = "";
  readonly blobs = new Map<string, Buffer>();
  readonly commits = new Map<string, StandInCommit>();
  readonly requests: string[] = [];
  /** Authorization headers seen. */
  readonly tokens = new Set<string>();
  head: string;
  private readonly trees = new Map<string, Map<string, string>>();
  private next = 1;

  constructor(
    readonly fullName = "acme/license-usage",
    readonly branch = "main",
  ) {
    this.trees.set("tree0", new Map([["README.md", "readme"]]));
    this.commits.set("commit0", { sha: "commit0", message: "first", parents: [], files: this.trees.get("tree0")! });
    this.head = "commit0";
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, { message: String(err) });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Files of the branch's head commit. */
  headFiles(): Map<string, string> {
    return this.commits.get(this.head)!.files;
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const path = decodeURIComponent(url.pathname);
    this.requests.push(`${req.method} ${path}`);
    if (req.headers.authorization) this.tokens.add(req.headers.authorization);
    const base = `/repos/${this.fullName}`;
    if (!path.startsWith(base)) return this.send(res, 404, { message: "Not Found" });
    const rest = path.slice(base.length);
    const ref = `/git/ref/heads/${this.branch}`;

    if (req.method === "GET" && rest === "") return this.send(res, 200, { full_name: this.fullName, default_branch: this.branch });
    if (req.method === "GET" && rest === ref) return this.send(res, 200, { ref: `refs/heads/${this.branch}`, object: { sha: this.head, type: "commit" } });
    if (req.method === "GET" && rest.startsWith("/git/commits/")) {
      const sha = rest.slice("/git/commits/".length);
      return this.commits.has(sha) ? this.send(res, 200, { sha, tree: { sha: `tree-${sha}` } }) : this.send(res, 404, { message: "Not Found" });
    }
    if (req.method === "GET" && rest.startsWith("/contents/")) {
      const dir = rest.slice("/contents/".length);
      const files = this.commits.get(url.searchParams.get("ref") ?? this.head)?.files ?? new Map<string, string>();
      const entries = [...files].filter(([p]) => p.startsWith(`${dir}/`)).map(([p, sha]) => ({ type: "file", path: p, name: p.split("/").pop(), sha }));
      return entries.length ? this.send(res, 200, entries) : this.send(res, 404, { message: "Not Found" });
    }
    if (req.method === "POST" && rest === "/git/blobs") {
      const b = await this.body(req);
      const bytes = Buffer.from(String(b.content), "base64");
      const sha = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
      this.blobs.set(sha, bytes);
      return this.send(res, 201, { sha, url: `${this.url}${base}/git/blobs/${sha}` });
    }
    if (req.method === "POST" && rest === "/git/trees") {
      const b = (await this.body(req)) as { base_tree: string; tree: { path: string; sha: string | null }[] };
      const baseCommit = b.base_tree.replace(/^tree-/, "");
      const files = new Map(this.commits.get(baseCommit)?.files ?? []);
      for (const e of b.tree) {
        if (e.sha === null) files.delete(e.path);
        else files.set(e.path, e.sha);
      }
      const sha = `newtree${this.next++}`;
      this.trees.set(sha, files);
      return this.send(res, 201, { sha, tree: [] });
    }
    if (req.method === "POST" && rest === "/git/commits") {
      const b = (await this.body(req)) as { message: string; tree: string; parents: string[] };
      const sha = `commit${this.next++}`;
      this.commits.set(sha, { sha, message: b.message, parents: b.parents, files: this.trees.get(b.tree)! });
      return this.send(res, 201, { sha, html_url: `${this.url}/${this.fullName}/commit/${sha}` });
    }
    if (req.method === "PATCH" && rest === `/git/refs/heads/${this.branch}`) {
      const b = (await this.body(req)) as { sha: string };
      const parents = this.commits.get(b.sha)?.parents ?? [];
      if (!parents.includes(this.head)) return this.send(res, 422, { message: "Update is not a fast forward" });
      this.head = b.sha;
      return this.send(res, 200, { ref: `refs/heads/${this.branch}`, object: { sha: b.sha } });
    }
    return this.send(res, 404, { message: "Not Found" });
  }
}
