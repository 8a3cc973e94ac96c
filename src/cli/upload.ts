// `license-sync upload FILE... --repo OWNER/NAME [--wait]`: validates every file locally, then
// commits them all to the ledger repository in one commit, each export at a path named after its
// instance and the GHEC license report at a fixed one.
import { load, printValidation, processIo, version, type CliIo } from "./main.js";
import { DEFAULT_APP_SLUG, parseAppSlug, parseUploadArgs, normalizeApiUrl, UPLOAD_HELP, UPLOAD_USAGE, type UploadOptions } from "./upload-args.js";
import { CLOUD_REPORT_BASE, instanceFileName, mb, planFile, planProblems, type PlannedFile, type Target } from "./upload-files.js";
import {
  DEFAULT_API_URL,
  UploadError,
  commitFiles,
  createClient,
  readFolder,
  readHead,
  sendBlobs,
  waitForAnswer,
  type Ledger,
} from "./upload-git.js";

export interface UploadIo extends CliIo {
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal: progress lines are drawn only there. */
  stderrIsTTY: boolean;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export function uploadIo(io: CliIo = processIo): UploadIo {
  return {
    ...io,
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
  };
}

/** Files at least this large get a progress line on a terminal. */
export const PROGRESS_OVER_BYTES = 4 * 1024 * 1024;

/** One line on a terminal, redrawn per stage of a large file and cleared before other output. */
class Progress {
  private drawn = false;
  constructor(private readonly io: UploadIo) {}
  show(file: string, size: number, stage: string): void {
    if (!this.io.stderrIsTTY || size < PROGRESS_OVER_BYTES) return;
    this.io.stderr(`\r\x1b[K${file} (${mb(size)}): ${stage}…`);
    this.drawn = true;
  }
  clear(): void {
    if (this.drawn) this.io.stderr("\r\x1b[K");
    this.drawn = false;
  }
}

interface Checked {
  source: string;
  target: Target;
  bytes: Uint8Array;
}

/** Validates every file with `validate`'s rules and messages; null when any is invalid. */
async function validateAll(options: UploadOptions, io: UploadIo, progress: Progress): Promise<Checked[] | null> {
  const checked: Checked[] = [];
  let failed = false;
  for (const file of options.files) {
    let bytes: Uint8Array | undefined;
    const capturing: CliIo = {
      ...io,
      stat: async (f) => {
        const s = await io.stat(f);
        progress.show(f, s.size, "validating");
        return s;
      },
      readFile: async (f) => (bytes = await io.readFile(f)),
    };
    const read = await load(file, options.maxBytes, capturing);
    progress.clear();
    if (read === null || !printValidation(file, read, io)) {
      failed = true;
      continue;
    }
    let target: Target;
    if (read.kind === "cloud") {
      if (!read.result.ok) continue; // printValidation said so
      target = { base: CLOUD_REPORT_BASE, format: read.result.report.format, label: "GHEC license report", key: "cloud" };
    } else {
      if (!read.result.ok) continue;
      const { instance } = read.result.export;
      target = { base: instanceFileName(instance.hostName), format: "json", label: instance.hostName, key: instance.serverId };
    }
    checked.push({ source: file, target, bytes: bytes! });
  }
  return failed ? null : checked;
}

function defaultMessage(files: readonly PlannedFile[]): string {
  const labels = files.map((f) => f.target.label).join(", ");
  return `License usage: ${labels.length > 200 ? `${files.length} files` : labels}\n\nUploaded by license-sync upload.`;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? `${s / 60}m` : s > 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export async function upload(argv: string[], baseIo: CliIo = processIo, extra?: Partial<UploadIo>): Promise<number> {
  const io: UploadIo = { ...uploadIo(baseIo), ...extra };
  const parsed = parseUploadArgs(argv);
  if (!parsed.ok) {
    io.stderr(`license-sync: ${parsed.error}\n${UPLOAD_USAGE}\nRun "license-sync upload --help" for details.\n`);
    return 2;
  }
  if (parsed.help) {
    io.stdout(UPLOAD_HELP + "\n");
    return 0;
  }
  const options = parsed.options;
  const name = `${options.owner}/${options.repo}`;
  const token = io.env.GITHUB_TOKEN?.trim() || io.env.GH_TOKEN?.trim();
  if (!token) {
    io.stderr(`license-sync: upload: no token: set GITHUB_TOKEN or GH_TOKEN to a token with contents: write on ${name}\n`);
    return 2;
  }
  let apiUrl = options.apiUrl ?? DEFAULT_API_URL;
  if (options.apiUrl === null && io.env.GITHUB_API_URL?.trim()) {
    const fromEnv = normalizeApiUrl(io.env.GITHUB_API_URL);
    if (fromEnv === null) {
      io.stderr(`license-sync: upload: GITHUB_API_URL "${io.env.GITHUB_API_URL}" is not an http(s) URL\n`);
      return 2;
    }
    apiUrl = fromEnv;
  }
  let appSlug = options.appSlug ?? DEFAULT_APP_SLUG;
  if (options.appSlug === null && io.env.LICENSE_SYNC_APP_SLUG?.trim()) {
    const fromEnv = parseAppSlug(io.env.LICENSE_SYNC_APP_SLUG);
    if (fromEnv === null) {
      io.stderr(`license-sync: upload: LICENSE_SYNC_APP_SLUG "${io.env.LICENSE_SYNC_APP_SLUG}" is not a GitHub App slug (as in github.com/apps/SLUG)\n`);
      return 2;
    }
    appSlug = fromEnv;
  }

  const progress = new Progress(io);
  const checked = await validateAll(options, io, progress);
  if (checked === null) {
    io.stderr("nothing was uploaded: fix the files above and run again\n");
    return 1;
  }
  const planned: PlannedFile[] = [];
  for (const c of checked) {
    planned.push(await planFile(c.source, c.target, c.bytes, options.dir, (stage) => progress.show(c.source, c.bytes.length, stage)));
    progress.clear();
  }
  checked.length = 0; // the planned content is all that is kept
  const problems = planProblems(planned);
  if (problems.length > 0) {
    io.stderr(problems.map((p) => p + "\n").join("") + "nothing was uploaded\n");
    return 1;
  }

  const ledger: Ledger = { owner: options.owner, repo: options.repo, apiUrl };
  const octokit = createClient(token, apiUrl, `license-sync/${version()}`);
  try {
    const head = await readHead(octokit, ledger, options.branch);
    const folder = await readFolder(octokit, ledger, options.dir, head.commitSha);
    await sendBlobs(octokit, ledger, planned, folder, (f) => progress.show(f.source, f.sourceBytes, `uploading ${f.path} (${mb(f.content.length)})`));
    progress.clear();
    const outcome = await commitFiles(octokit, ledger, planned, head, folder, options.dir, options.message ?? defaultMessage(planned), (attempt) =>
      io.stderr(`note: ${head.branch} moved while uploading; committing again on top of it (attempt ${attempt + 1})\n`),
    );
    if (outcome.kind === "unchanged") {
      io.stdout(
        `nothing to commit: ${planned.map((f) => f.path).join(", ")} in ${name} (${head.branch}, ${outcome.sha.slice(0, 7)}) already hold${planned.length === 1 ? "s" : ""} ${planned.length === 1 ? "this file" : "these files"}\n`,
      );
      return 0;
    }
    for (const f of planned) io.stdout(`  ${f.path} <- ${f.source} (${mb(f.content.length)})\n`);
    io.stdout(`committed to ${name} (${head.branch}): ${outcome.htmlUrl}\n`);
    if (!options.wait) return 0;

    io.stderr(`waiting up to ${formatDuration(options.timeoutMs)} for the app's "license usage" check run…\n`);
    const answer = await waitForAnswer(octokit, ledger, outcome.sha, {
      timeoutMs: options.timeoutMs,
      sleep: io.sleep,
      now: io.now,
      onNote: (text) => io.stderr(`note: ${text}\n`),
      appSlug,
    });
    if (answer.kind === "none") {
      io.stderr(
        `no answer from the app within ${formatDuration(options.timeoutMs)}: is license-sync installed on ${name}, and is "${head.branch}" the branch it records (.github/license-sync.yml)?\n`,
      );
      return 3;
    }
    const { recorded } = answer;
    io.stdout(`license usage: ${recorded ? "recorded" : "refused"}${answer.title ? ` (${answer.title})` : ""}${answer.htmlUrl ? ` ${answer.htmlUrl}` : ""}\n`);
    if (answer.totals) {
      const t = answer.totals;
      io.stdout(`seats consumed: ${t.seats} (${t.accounts} accounts, ${t.deduplicated} deduplicated, ${t.instances} instances)\n`);
    }
    return recorded ? 0 : 1;
  } catch (e) {
    progress.clear();
    if (e instanceof UploadError) {
      io.stderr(`license-sync: upload: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
