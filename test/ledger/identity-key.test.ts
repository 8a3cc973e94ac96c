import { describe, expect, it, jest } from "@jest/globals";
import {
  createIdentityHasher,
  IdentityKeyError,
  identityKeyFromEnv,
  keyFingerprint,
} from "../../src/ledger/identity-key.js";

const quietLog = () => ({ info: jest.fn<(msg: string) => void>() });

describe("identityKeyFromEnv", () => {
  it("uses IDENTITY_KEY as is, without logging", () => {
    const log = quietLog();
    expect(identityKeyFromEnv({ IDENTITY_KEY: " k1 ", WEBHOOK_SECRET: "w" }, log)).toBe("k1");
    expect(log.info).not.toHaveBeenCalled();
  });

  it("derives a key from WEBHOOK_SECRET, says so, and does not reuse the secret itself", () => {
    const log = quietLog();
    const derived = identityKeyFromEnv({ WEBHOOK_SECRET: "hook-secret" }, log);
    expect(derived).not.toContain("hook-secret");
    expect(derived).toBe(identityKeyFromEnv({ WEBHOOK_SECRET: "hook-secret" }, quietLog()));
    expect(derived).not.toBe(identityKeyFromEnv({ WEBHOOK_SECRET: "other" }, quietLog()));
    expect(log.info).toHaveBeenCalledTimes(1);
    expect(log.info.mock.calls[0]![0]).toMatch(/deriving the identity key from WEBHOOK_SECRET/);
  });

  it("refuses to start without either", () => {
    expect(() => identityKeyFromEnv({ IDENTITY_KEY: "  " }, quietLog())).toThrow(IdentityKeyError);
    expect(() => identityKeyFromEnv({}, quietLog())).toThrow(/set IDENTITY_KEY/);
  });
});

describe("createIdentityHasher", () => {
  it("is a keyed, deterministic 128-bit base64url hash", () => {
    const h = createIdentityHasher("key-a");
    const k = h("mona@corp.example");
    expect(k).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(h("mona@corp.example")).toBe(k);
    expect(h("hubot@corp.example")).not.toBe(k);
    expect(createIdentityHasher("key-b")("mona@corp.example")).not.toBe(k);
    expect(k).not.toContain("mona");
  });

  it("refuses an empty key", () => {
    expect(() => createIdentityHasher("")).toThrow(IdentityKeyError);
  });
});

describe("keyFingerprint", () => {
  it("identifies the key without revealing it", () => {
    const fp = keyFingerprint("a-very-secret-key");
    expect(fp).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(fp).not.toContain("a-very-secret-key");
    expect(keyFingerprint("a-very-secret-key")).toBe(fp);
    expect(keyFingerprint("another-key")).not.toBe(fp);
    // Not the identity hash of the key either.
    expect(fp.slice(7)).not.toBe(createIdentityHasher("a-very-secret-key")("a-very-secret-key"));
  });
});
