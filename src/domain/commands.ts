// Parses `/license-sync <command>` from an issue comment. Pure. A command is a line of its own,
// outside code blocks and quotes, so quoting someone else's command does not run it again.

export type Command =
  | { kind: "report" }
  /** Fetch the enterprise's license report from GitHub now (needs `enterprise` in the config). */
  | { kind: "refresh" }
  | { kind: "forget"; target: string }
  | { kind: "help" }
  /** `/license-sync` with a word we do not know (or `forget` without a target): answered with help. */
  | { kind: "unknown"; word: string };

const PREFIX = /^\/license-sync(?:\s+(.*))?$/i;

/** The first command in `body`, or null when the comment holds none. */
export function parseCommand(body: string | null | undefined): Command | null {
  const lines = (body ?? "").replace(/\r\n?/g, "\n").split("\n");
  let fence: string | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    const f = /^(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1][0];
      else if (f[1][0] === fence) fence = null;
      continue;
    }
    if (fence !== null || line.startsWith(">")) continue;
    const m = PREFIX.exec(line);
    if (!m) continue;
    const words = (m[1] ?? "").trim().split(/\s+/).filter(Boolean);
    const word = (words[0] ?? "").toLowerCase();
    if (word === "report" && words.length === 1) return { kind: "report" };
    if (word === "refresh" && words.length === 1) return { kind: "refresh" };
    if (word === "help" || word === "") return { kind: "help" };
    if (word === "forget") {
      const target = words.slice(1).join(" ").replace(/^`|`$/g, "").trim();
      if (target && words.length === 2) return { kind: "forget", target };
      return { kind: "unknown", word: words.length > 2 ? "forget (one server id or host name)" : "forget (without a target)" };
    }
    return { kind: "unknown", word: word.slice(0, 40) };
  }
  return null;
}
