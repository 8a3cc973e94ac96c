// What `license-sync upload` commits for each validated file: its stable path in the ledger
// repository (an export's named after its instance, the GHEC license report's fixed), the bytes
// (gzip-compressed when large) and their Git blob id.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";

const gzip = promisify(gzipCallback);

/** Exports larger than this are sent gzip-compressed (the app reads .json.gz). */
export const GZIP_OVER_BYTES = 10 * 1024 * 1024;
/** GitHub refuses blobs larger than this. */
export const GITHUB_BLOB_LIMIT_BYTES = 100 * 1024 * 1024;

/** Where a file goes and what it is: an export (one per instance) or the GHEC license report (one). */
export interface Target {
  /** File name without extension: the instance's host name, or ghec-license-report. */
  base: string;
  format: "json" | "csv";
  /** For messages: the host name, or "GHEC license report". */
  label: string;
  /** Files with the same key cannot go together: the instance's server_id, or "cloud". */
  key: string;
}

export const CLOUD_REPORT_BASE = "ghec-license-report";

export interface PlannedFile {
  /** The file as given on the command line. */
  source: string;
  target: Target;
  /** Path in the repository, e.g. license-usage/ghes.corp.example.json.gz */
  path: string;
  /** The same base name with another extension: removed from the tree if present (a stale copy). */
  otherPaths: string[];
  content: Buffer;
  compressed: boolean;
  /** Size of the file as given, for progress lines. */
  sourceBytes: number;
  /** Git's blob id of `content`: unchanged files need not be sent again. */
  blobSha: string;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A host name as a file name: lower case, only [a-z0-9._-], never "." or "..". */
export function instanceFileName(hostName: string): string {
  const safe = hostName
    .trim()
    .toLowerCase()
    .replace(/\.+$/, "")
    .replace(/[^a-z0-9._-]+/g, "_")
    .replace(/^\.+/, "_")
    .slice(0, 200);
  return safe === "" ? "_" : safe;
}

export function gitBlobSha(content: Uint8Array): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

export type Stage = "hashing" | "compressing";

/**
 * Plans one export. Compressed input stays as it is; plain JSON over GZIP_OVER_BYTES is
 * compressed. Gzip output has no time stamp here, so the same export gives the same blob.
 */
export async function planFile(
  source: string,
  target: Target,
  bytes: Uint8Array,
  dir: string,
  onStage: (stage: Stage) => void = () => undefined,
): Promise<PlannedFile> {
  let content = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let compressed = isGzip(bytes);
  if (!compressed && content.length > GZIP_OVER_BYTES) {
    onStage("compressing");
    content = await gzip(content);
    compressed = true;
  }
  onStage("hashing");
  const base = `${dir}/${target.base}`;
  const path = `${base}.${target.format}${compressed ? ".gz" : ""}`;
  return {
    source,
    target,
    path,
    otherPaths: [".json", ".json.gz", ".csv", ".csv.gz"].map((ext) => base + ext).filter((p) => p !== path),
    content,
    compressed,
    sourceBytes: bytes.length,
    blobSha: gitBlobSha(content),
  };
}

/** Problems that stop the whole upload before anything is sent, one message per problem. */
export function planProblems(files: readonly PlannedFile[]): string[] {
  const problems: string[] = [];
  const byBase = new Map<string, PlannedFile>();
  const byKey = new Map<string, PlannedFile>();
  for (const f of files) {
    if (f.content.length > GITHUB_BLOB_LIMIT_BYTES) {
      problems.push(
        `${f.source}: ${mb(f.content.length)}${f.compressed ? " compressed" : ""} is over GitHub's 100 MB limit for one file; nothing was sent`,
      );
    }
    const other = byBase.get(f.target.base) ?? byKey.get(f.target.key);
    if (other) {
      problems.push(
        f.target.key === "cloud"
          ? `${other.source} and ${f.source} are both GHEC license reports: upload one (the app keeps only the latest)`
          : other.target.base === f.target.base
            ? `${other.source} and ${f.source} are both exports of ${f.target.label} (${f.path}): upload one file per instance`
            : `${other.source} and ${f.source} have the same server_id ${f.target.key}: upload one file per instance`,
      );
    }
    byBase.set(f.target.base, f);
    byKey.set(f.target.key, f);
  }
  return problems;
}

export function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
