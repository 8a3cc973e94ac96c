import { describe, it, expect } from "@jest/globals";
import { cloudFetchDue, decodeCloudFetch, describeAttempts, encodeCloudFetch, readLicenseSyncStatus } from "../../src/domain/cloud-fetch.js";

describe("readLicenseSyncStatus", () => {
  it("reads the plain shape, sorted by host", () => {
    const servers = readLicenseSyncStatus({
      server_instances: [
        { server_id: "s-2", hostname: "ghes-b.corp.example", last_sync: { date: "2026-11-01T08:00:00Z", status: "failed", error: "timeout" } },
        { server_id: "s-1", hostname: "ghes-a.corp.example", last_sync: { date: "2026-11-29T10:00:00Z", status: "success", error: "" } },
      ],
    });
    expect(servers).toEqual([
      { serverId: "s-1", hostName: "ghes-a.corp.example", lastSyncAt: new Date("2026-11-29T10:00:00Z"), status: "success", error: null },
      { serverId: "s-2", hostName: "ghes-b.corp.example", lastSyncAt: new Date("2026-11-01T08:00:00Z"), status: "failed", error: "timeout" },
    ]);
  });

  it("reads GitHub's published example, which nests values under `properties`", () => {
    const servers = readLicenseSyncStatus({
      title: "Enterprise License Sync Status",
      properties: {
        server_instances: {
          type: "array",
          items: {
            type: "object",
            properties: {
              server_id: "ghes-1",
              hostname: "github.enterprise.local",
              last_sync: { type: "object", properties: { date: "2025-10-30T10:30:00Z", status: "success", error: "" } },
            },
          },
        },
      },
    });
    expect(servers).toEqual([
      { serverId: "ghes-1", hostName: "github.enterprise.local", lastSyncAt: new Date("2025-10-30T10:30:00Z"), status: "success", error: null },
    ]);
  });

  it("a server never synced has no date; items without a host name and unknown bodies give nothing", () => {
    expect(readLicenseSyncStatus({ server_instances: [{ hostname: "h", last_sync: null }, { server_id: "x" }, 7] })).toEqual([
      { serverId: null, hostName: "h", lastSyncAt: null, status: null, error: null },
    ]);
    expect(readLicenseSyncStatus(null)).toEqual([]);
    expect(readLicenseSyncStatus([1, 2])).toEqual([]);
    expect(readLicenseSyncStatus({ message: "hi" })).toEqual([]);
  });
});

describe("cloudFetchDue", () => {
  const now = new Date("2026-11-30T12:00:00Z");
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600_000);
  const base = { enterprise: "acme", refreshHours: 24, now, reportRecordedAt: null, last: null };

  it("never without an enterprise", () => {
    expect(cloudFetchDue({ ...base, enterprise: null })).toBe(false);
  });
  it("at once when nothing was stored or tried", () => {
    expect(cloudFetchDue(base)).toBe(true);
  });
  it("not while the stored report is younger than refreshHours, whatever its source", () => {
    expect(cloudFetchDue({ ...base, reportRecordedAt: hoursAgo(23) })).toBe(false);
    expect(cloudFetchDue({ ...base, reportRecordedAt: hoursAgo(24) })).toBe(true);
  });
  it("not again within refreshHours of the last attempt, even a refused one", () => {
    expect(cloudFetchDue({ ...base, last: { enterprise: "acme", attemptedAt: hoursAgo(2), outcome: "refused" } })).toBe(false);
    expect(cloudFetchDue({ ...base, refreshHours: 1, last: { enterprise: "acme", attemptedAt: hoursAgo(2), outcome: "refused" } })).toBe(true);
  });
  it("after GitHub failed (5xx), again within the hour, not after a day", () => {
    expect(cloudFetchDue({ ...base, last: { enterprise: "acme", attemptedAt: hoursAgo(0.5), outcome: "unavailable" } })).toBe(false);
    expect(cloudFetchDue({ ...base, last: { enterprise: "acme", attemptedAt: hoursAgo(1.5), outcome: "unavailable" } })).toBe(true);
  });
  it("at once when the configured enterprise changed", () => {
    expect(cloudFetchDue({ ...base, reportRecordedAt: hoursAgo(1), last: { enterprise: "other", attemptedAt: hoursAgo(1), outcome: "fetched" } })).toBe(true);
    expect(cloudFetchDue({ ...base, last: { enterprise: "ACME", attemptedAt: hoursAgo(1), outcome: "fetched" } })).toBe(false);
  });
});

describe("encodeCloudFetch / decodeCloudFetch", () => {
  it("round-trips a state, dates included", () => {
    const state = {
      enterprise: "acme",
      attemptedAt: new Date("2026-11-30T10:00:00Z"),
      outcome: "fetched" as const,
      attempts: [{ credential: "installation" as const, outcome: "used" as const }],
      sync: { ok: true as const, servers: [{ serverId: "s", hostName: "h", lastSyncAt: new Date("2026-11-29T00:00:00Z"), status: "success", error: null }] },
    };
    expect(decodeCloudFetch(encodeCloudFetch(state))).toEqual(state);
    const refused = { ...state, outcome: "unavailable" as const, sync: { ok: false as const, status: 403 }, status: 502 };
    expect(decodeCloudFetch(encodeCloudFetch(refused))).toEqual(refused);
  });
  it("an unreadable row is no state", () => {
    for (const text of ["", "{", "null", '{"enterprise":"a","outcome":"maybe","attemptedAt":"2026-01-01"}', '{"enterprise":"a","outcome":"fetched"}']) {
      expect(decodeCloudFetch(text)).toBeUndefined();
    }
  });
});

describe("describeAttempts", () => {
  it("says what was tried and what GitHub answered", () => {
    expect(
      describeAttempts(
        [
          { credential: "installation", outcome: "refused", status: 403, step: "consumed-licenses" },
          { credential: "token", outcome: "absent" },
        ],
        "acme",
      ),
    ).toBe("the app's enterprise installation: refused by GitHub (HTTP 403, reading the consumed licenses); `ENTERPRISE_TOKEN`: not set");
    expect(
      describeAttempts(
        [
          { credential: "installation", outcome: "absent" },
          { credential: "token", outcome: "refused", status: 401, step: "consumed-licenses" },
        ],
        "acme",
      ),
    ).toBe("the app's enterprise installation: the app is not installed on the enterprise `acme`; `ENTERPRISE_TOKEN`: refused by GitHub (HTTP 401, reading the consumed licenses)");
  });
});
