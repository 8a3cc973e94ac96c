// Sizing a body by a budget, as Renovate's dashboard does: the fixed parts are laid out first, then
// the variable sections share the room that is left (water-filling: a small section takes what it
// needs, the rest is split among the larger ones), each dropping its later rows with one note.
// The final cut-to-fit (fitCommentBody) stays only as a guard.

/** A variable section: `head` and `tail` always shown, `rows` dropped from the end to fit. */
export interface Section {
  head: readonly string[];
  rows: readonly string[];
  tail?: readonly string[];
  /** Rows already left out before the layout (a count cap): counted in the "more" line. */
  hidden?: number;
  /** The line that replaces the dropped rows, e.g. "… and 12 more instances". */
  more(dropped: number): string;
}

/** A fixed part is plain text (lines joined by "\n"); a section is laid out by the budget. */
export type Part = string | Section;

const size = (lines: readonly string[]) => lines.reduce((n, l) => n + l.length + 1, 0);

/** Lays the parts out, in their order, in at most about `limit` characters. */
export function layout(parts: readonly Part[], limit: number): string {
  const sections = parts.filter((p): p is Section => typeof p !== "string");
  // A section's fixed cost: its head, its tail and room for its "more" line.
  const fixedCost = (s: Section) => size(s.head) + size(s.tail ?? []) + s.more(s.rows.length + (s.hidden ?? 0)).length + 1;
  let room = limit - parts.reduce((n, p) => n + (typeof p === "string" ? p.length + 1 : fixedCost(p)), 0);

  const allotted = new Map<Section, number>();
  const byNeed = [...sections].sort((a, b) => size(a.rows) - size(b.rows));
  byNeed.forEach((s, i) => {
    const share = Math.max(0, Math.floor(room / (byNeed.length - i)));
    const give = Math.min(size(s.rows), share);
    allotted.set(s, give);
    room -= give;
  });

  const out: string[] = [];
  for (const p of parts) {
    if (typeof p === "string") {
      out.push(p);
      continue;
    }
    let left = allotted.get(p) ?? 0;
    let kept = 0;
    while (kept < p.rows.length && p.rows[kept]!.length + 1 <= left) left -= p.rows[kept++]!.length + 1;
    const dropped = p.rows.length - kept + (p.hidden ?? 0);
    out.push(...p.head, ...p.rows.slice(0, kept), ...(dropped ? [p.more(dropped)] : []), ...(p.tail ?? []));
  }
  return out.join("\n");
}
