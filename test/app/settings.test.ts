import { describe, expect, it } from "@jest/globals";
import { readSettings } from "../../src/settings.js";

describe("MAX_INSTANCES_PER_LEDGER", () => {
  it("defaults to 1,000, takes more, refuses less", () => {
    expect(readSettings({}).maxInstancesPerLedger).toBe(1000);
    expect(readSettings({ MAX_INSTANCES_PER_LEDGER: "2500" }).maxInstancesPerLedger).toBe(2500);
    expect(() => readSettings({ MAX_INSTANCES_PER_LEDGER: "999" })).toThrow("MAX_INSTANCES_PER_LEDGER must be at least 1000, got 999");
    expect(() => readSettings({ MAX_INSTANCES_PER_LEDGER: "lots" })).toThrow("must be a positive whole number");
  });
});

describe("ENTERPRISE_TOKEN", () => {
  it("is optional, trimmed, and empty means none", () => {
    expect(readSettings({}).enterpriseToken).toBeNull();
    expect(readSettings({ ENTERPRISE_TOKEN: "  " }).enterpriseToken).toBeNull();
    expect(readSettings({ ENTERPRISE_TOKEN: " ghp_abc \n" }).enterpriseToken).toBe("ghp_abc");
  });
});

describe("SHUTDOWN_TIMEOUT_SECONDS", () => {
  it("defaults to 25 seconds and takes a positive whole number", () => {
    expect(readSettings({}).shutdownTimeoutSeconds).toBe(25);
    expect(readSettings({ SHUTDOWN_TIMEOUT_SECONDS: "60" }).shutdownTimeoutSeconds).toBe(60);
    expect(() => readSettings({ SHUTDOWN_TIMEOUT_SECONDS: "0" })).toThrow("SHUTDOWN_TIMEOUT_SECONDS must be a positive whole number");
  });
});
