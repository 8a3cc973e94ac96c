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

function exportOf(serverId, host, users) {
  const features = [{ name: "license_usage_sync", enabled_at: "2025-01-01T00:00:00Z" }];
  return { version: 1, instance: { server_id: serverId, host_name: host, http_only: false, version: "3.17.4", features }, users };
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
  return exportOf(`00000000-0000-4000-8000-${String(index).padStart(12, "0")}`, host, users);
}

/**
 * Directory-shaped fleet (issue #13): a population of people, each instance a sample of them; the
 * same person has the same login everywhere; most keep one primary e-mail everywhere (some in another
 * case), a third use an instance-specific e-mail; a third of accounts carry a second (noreply) address.
 * `worst`: every login shared by one person across instances, every e-mail distinct (nothing matches
 * by e-mail, every multi-instance person is a "possible saving").
 */
export function makeFleetExport(index, accounts, { worst = false, population = accounts * 3 } = {}) {
  const random = rng(7000 + index);
  const host = `ghes-${String(index).padStart(2, "0")}.fleet.example`;
  // A sample of `accounts` distinct people out of `population` (partial Fisher-Yates), in id order.
  const pool = new Int32Array(population);
  for (let i = 0; i < population; i++) pool[i] = i;
  for (let i = 0; i < accounts; i++) {
    const j = i + Math.floor(random() * (population - i));
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  const chosen = pool.subarray(0, accounts).sort();
  const users = [];
  for (let i = 0; i < accounts; i++) {
    const person = chosen[i];
    const name = `person${person}`;
    // the person's habits are theirs on every instance; the instance-specific choice is per account
    const habit = (person * 2654435761) % 100;
    let email;
    if (worst || random() < 1 / 3) email = `${name}@${host}`;
    else email = habit < 10 ? `${name}@Corp.Example` : `${name}@corp.example`;
    const emails = [{ email, primary: true }];
    if (random() < 1 / 3) emails.push({ email: `${person}+${name}@users.noreply.${host}`, primary: false });
    users.push({ user_id: i + 1, login: name, profile_name: `Person ${person}`, site_admin: i === 0, created_at: "2021-01-01 00:00:00 +0000", emails });
  }
  return exportOf(`00000000-0000-4000-9000-${String(index).padStart(12, "0")}`, host, users);
}

export const PROFILES = {
  today: (index, accounts) => makeExport(index, accounts),
  directory: (index, accounts) => makeFleetExport(index, accounts),
  worst: (index, accounts) => makeFleetExport(index, accounts, { worst: true }),
};

/** Writes `instances` files of `accounts` users each into `dir`, unless they are already there. */
export function generate(dir, instances = 10, accounts = 100_000, profile = "today") {
  mkdirSync(dir, { recursive: true });
  const files = [];
  const make = PROFILES[profile];
  if (!make) throw new Error(`unknown profile ${profile}`);
  for (let i = 0; i < instances; i++) {
    const prefix = profile === "today" ? "instance" : profile;
    const file = join(dir, `${prefix}-${String(i).padStart(2, "0")}-${accounts}.json`);
    if (!existsSync(file)) writeFileSync(file, JSON.stringify(make(i, accounts)));
    files.push(file);
  }
  return files;
}

/** A later export of the first instance (1% fewer accounts, re-sampled): what a push replacing it sends. */
export function generateReplacement(dir, accounts = 100_000, profile = "today") {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${profile}-00-replacement-${accounts}.json`);
  if (!existsSync(file)) writeFileSync(file, JSON.stringify(PROFILES[profile](0, accounts - Math.floor(accounts / 100))));
  return file;
}

/**
 * A GHEC license report CSV (GitHub's 17 columns) of `rows` rows for the same made-up enterprise:
 * members matching the exports' people by verified e-mail or NameID, members linked to GHES accounts
 * by host:id, cloud-only members, Visual Studio subscribers, server-only rows, quoted names.
 */
export function makeCloudCsv(rows, instances) {
  const random = rng(4242);
  const header =
    "github_com_login,github_com_name,github_com_profile,github_com_user,github_com_member_roles,github_com_enterprise_role," +
    "github_com_verified_domain_emails,github_com_saml_name_id,github_com_orgs_with_pending_invites,license_type," +
    "enterprise_server_user,enterprise_server_primary_emails,enterprise_server_user_ids,total_user_accounts," +
    "visual_studio_subscription_user,visual_studio_subscription_email,visual_studio_license_status";
  const host = () => `ghes-${String(Math.floor(random() * instances)).padStart(2, "0")}.bench.example`;
  const parts = [header];
  for (let i = 0; i < rows; i++) {
    const r = random();
    // a person of the exports' shared core, one local to an instance, or one on GHEC only
    const person = r < 0.5 ? Math.floor(random() * 60_000) : r < 0.7 ? 1_000_000 * (1 + Math.floor(random() * instances)) + Math.floor(random() * 100_000) : 50_000_000 + i;
    const email = `person${person}@corp.example`;
    const member = random() < 0.93;
    const vs = member && random() < 0.02;
    const links = random() < 0.3 ? `"${host()}:${1 + Math.floor(random() * 100_000)},${host()}:${1 + Math.floor(random() * 100_000)}"` : "";
    const name = random() < 0.2 ? `"Person ${person}, ""P"""` : `Person ${person}`;
    const login = member ? `gh-person${person}` : "";
    parts.push(
      [
        login,
        member ? name : "",
        member ? `https://github.com/${login}` : "",
        member ? "true" : "false",
        member ? "corp:Member" : "",
        member ? "Member" : "",
        member && random() < 0.8 ? email : "",
        member && random() < 0.5 ? email.toUpperCase() : "",
        "",
        vs ? "Visual Studio subscription" : "Enterprise",
        links ? "true" : "false",
        links ? email : "",
        links,
        links ? "3" : "1",
        vs ? "true" : "false",
        vs ? email : "",
        vs ? "active" : "",
      ].join(","),
    );
  }
  return parts.join("\r\n") + "\r\n";
}

/** Writes the cloud report CSV into `dir`, unless it is already there. */
export function generateCloud(dir, rows = 300_000, instances = 6) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `ghec-license-report-${rows}.csv`);
  if (!existsSync(file)) writeFileSync(file, makeCloudCsv(rows, instances));
  return file;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = "bench/out", n = "10", a = "100000", profile = "today"] = process.argv.slice(2);
  const files = generate(dir, Number(n), Number(a), profile);
  console.log(files.join("\n"));
}
