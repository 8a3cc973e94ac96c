// Crafted collisions of plain (unseeded) FNV-1a over UTF-16 code units: 4,096 distinct lower-case
// strings with one 32-bit hash, as an uploader could put in logins. Chained birthday collisions:
// each stage is two 5-character blocks that take the state left by the stages before to one state,
// so any choice of block per stage gives the same final hash. Found by a birthday search (about
// 700,000 candidates a stage, seconds each), so they are written down here.
const STAGES: [string, string][] = [
  ["7yzla", "e6apa"],
  ["9tzla", "g1cpa"],
  ...Array.from({ length: 10 }, (): [string, string] => ["05zla", "bpcpa"]),
];

/** FNV-1a (offset basis 0x811c9dc5, no seed) of `key`, as the table used to hash it. */
export function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** 2^stages (up to 4,096) distinct strings of one FNV-1a hash. */
export function fnvCollisions(stages = STAGES.length): string[] {
  let out = [""];
  for (const [a, b] of STAGES.slice(0, stages)) out = out.flatMap((p) => [p + a, p + b]);
  return out;
}
