// Writes synthetic GHES license-usage exports (made-up people) for the benchmark.
// Deterministic: the same arguments always give the same bytes.
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

/** mulberry32: small, fast, seedable PRNG. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One export. Realistic overlap: a shared core of people is on most instances, the rest are local.
 * Some e-mails differ in case or spacing, some accounts have no primary, some have noreply addresses.
 */
export function makeExport(index, accounts, { corePeople = 60_000, coreShare = 0.4 } = {}) {
  const random = rng(1000 + index);
  const host = `ghes-${String(index).padStart(2, "0")}.bench.example`;
  const users = [];
  const seen = new Set();
  for (let i = 0; i < accounts; i++) {
    // A person id: from the shared core, or local to this instance.
    let person;
    do {
      person = random() < coreShare ? Math.floor(random() * corePeople) : 1_000_000 * (index + 1) + i;
    } while (seen.has(person));
    seen.add(person);
    const name = `person${person}`;
    let email = `${name}@corp.example`;
    const r = random();
    if (r < 0.03) email = email.toUpperCase();
    else if (r < 0.05) email = `  ${email} `;
    const emails = r > 0.98 ? [] : [{ email, primary: true }];
    if (random() < 0.3) emails.push({ email: `${name}@users.noreply.${host}`, primary: false });
    users.push({
      user_id: i + 1,
      login: random() < 0.01 ? `dup-login-${person % 5000}` : `${name}-${index}`,
      profile_name: `Person ${person}`,
      site_admin: i === 0,
      created_at: "2021-01-01 00:00:00 +0000",
      emails,
    });
  }
  return {
    version: 1,
    instance: {
      server_id: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
      host_name: host,
      http_only: false,
      version: "3.17.4",
      features: [{ name: "license_usage_sync", enabled_at: "2025-01-01T00:00:00Z" }],
    },
    users,
  };
}

/** Writes `instances` files of `accounts` users each into `dir`, unless they are already there. */
export function generate(dir, instances = 10, accounts = 100_000) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (let i = 0; i < instances; i++) {
    const file = join(dir, `instance-${String(i).padStart(2, "0")}-${accounts}.json`);
    if (!existsSync(file)) writeFileSync(file, JSON.stringify(makeExport(i, accounts)));
    files.push(file);
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = "bench/out", n = "10", a = "100000"] = process.argv.slice(2);
  const files = generate(dir, Number(n), Number(a));
  console.log(files.join("\n"));
}
