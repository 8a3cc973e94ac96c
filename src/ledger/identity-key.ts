// The secret behind identity keys: e-mails are stored only as HMAC-SHA-256 of the normalized
// address, so the database alone cannot be turned back into a mailing list.
import { createHash, createHmac } from "node:crypto";
import { createHmacSha256, type HmacSha256 } from "./hmac.js";

export class IdentityKeyError extends Error {
  override name = "IdentityKeyError";
}

interface InfoLog {
  info(msg: string): void;
}

/** Domain separation: the derived key is not the webhook secret itself. */
const DERIVATION_LABEL = "license-sync identity key v1";

/** IDENTITY_KEY, or one derived from WEBHOOK_SECRET (logged once). Throws when neither is set. */
export function identityKeyFromEnv(env: NodeJS.ProcessEnv, log: InfoLog): string {
  const explicit = env.IDENTITY_KEY?.trim();
  if (explicit) return explicit;
  const secret = env.WEBHOOK_SECRET?.trim();
  if (secret) {
    log.info(
      "IDENTITY_KEY is not set: deriving the identity key from WEBHOOK_SECRET. Set IDENTITY_KEY to rotate the webhook secret without losing stored identities.",
    );
    return createHmac("sha256", secret).update(DERIVATION_LABEL).digest("base64url");
  }
  throw new IdentityKeyError(
    "IDENTITY_KEY is not set (and no WEBHOOK_SECRET to derive it from): set IDENTITY_KEY to a long random secret, e.g. `openssl rand -base64 32`.",
  );
}

/** normalizedEmail -> 128-bit HMAC-SHA-256 prefix, base64url (22 chars). */
export function createIdentityHasher(key: string): HmacSha256 {
  if (!key) throw new IdentityKeyError("identity key is empty");
  return createHmacSha256(key, 16);
}

/** What the database keeps to notice a key change: a hash of the key, never the key. */
export function keyFingerprint(key: string): string {
  return "sha256:" + createHash("sha256").update("license-sync key fingerprint\0").update(key).digest("hex").slice(0, 32);
}
