// Per-file results -> the content of the "license usage" check run (conclusion, summary,
// one annotation per refused file at the line of its first error when it can be found).
import type { FileResult } from "../ledger/types.js";
import type { Finding } from "../domain/types.js";
import { decodeExport } from "../domain/decode.js";
import { formatFinding } from "../domain/findings.js";
import { locateLine } from "../domain/locate.js";
import { DEFAULT_LIMITS, renderFileResults, resultTally, type ResultWording } from "../domain/render.js";
import type { CheckAnnotation } from "./checks.js";

/** Line of a finding in the file's text: its JSON path, or the "line N" of a syntax error; else 1. */
export function findingLine(bytes: Uint8Array | undefined, finding: Finding, maxBytes: number): number {
  if (finding.path === "") {
    const m = /\bline (\d+)\b/.exec(finding.message);
    return m ? Number(m[1]) : 1;
  }
  // A CSV report's findings are placed by their line.
  const csvLine = /^line (\d+)$/.exec(finding.path);
  if (csvLine) return Number(csvLine[1]);
  // A gzip file has no meaningful lines to point at.
  if (!bytes || (bytes[0] === 0x1f && bytes[1] === 0x8b)) return 1;
  const decoded = decodeExport(bytes, finding.file, { maxBytes });
  if (!decoded.ok) return 1;
  return locateLine(decoded.text, finding.path) ?? 1;
}

export interface CheckContent {
  conclusion: "success" | "failure";
  title: string;
  summary: string;
  annotations: CheckAnnotation[];
}

/**
 * `paths` maps each result's file name to its repository path (they are the same for commits);
 * `bytes` holds the content of refused files, to find their lines.
 */
export function checkContent(
  results: readonly FileResult[],
  bytes: ReadonlyMap<string, Uint8Array>,
  maxBytes: number,
  note: string,
  wording: ResultWording = "record",
): CheckContent {
  const refused = results.filter((r): r is Extract<FileResult, { status: "refused" }> => r.status === "refused");
  const annotations: CheckAnnotation[] = refused.map((r) => {
    const first = r.errors[0];
    const shown = r.errors.slice(0, 10).map(formatFinding);
    if (r.errors.length > shown.length) shown.push(`… and ${r.errors.length - shown.length} more`);
    return {
      path: r.file,
      line: first ? findingLine(bytes.get(r.file), first, maxBytes) : 1,
      title: "License-usage export refused",
      message: shown.join("\n") || "refused",
    };
  });
  return {
    conclusion: refused.length ? "failure" : "success",
    title: resultTally(results, wording),
    summary: [note, "", renderFileResults(results, DEFAULT_LIMITS, wording)].join("\n"),
    annotations,
  };
}
