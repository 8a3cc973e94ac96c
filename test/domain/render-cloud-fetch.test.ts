import { describe, it, expect } from "@jest/globals";
import type { CloudFetchState } from "../../src/domain/cloud-fetch.js";
import { renderCloudFetch } from "../../src/domain/render-cloud-fetch.js";

const now = new Date("2026-11-30T12:00:00Z");
const base = { enterprise: "acme-corp", attemptedAt: new Date("2026-11-30T09:00:00Z"), sync: null };

describe("renderCloudFetch", () => {
  it("fetched: which credential, what was refused first, and when GitHub last received each server's usage", () => {
    const state: CloudFetchState = {
      ...base,
      outcome: "fetched",
      attempts: [
        { credential: "installation", outcome: "refused", status: 403, step: "consumed-licenses" },
        { credential: "token", outcome: "used" },
      ],
      sync: {
        ok: true,
        servers: [
          { serverId: "s-1", hostName: "ghes-a.corp.example", lastSyncAt: new Date("2026-11-29T10:00:00Z"), status: "success", error: null },
          { serverId: null, hostName: "ghes|lab", lastSyncAt: null, status: "failed", error: "u1@corp.example: bad *token*" },
        ],
      },
    };
    const text = renderCloudFetch(state, now);
    expect(text).toMatchSnapshot();
    expect(text).not.toContain("u1@corp.example");
  });

  it("refused: what was tried, how to provide the CSV, when it is tried again", () => {
    const text = renderCloudFetch(
      { ...base, outcome: "refused", attempts: [{ credential: "installation", outcome: "absent" }, { credential: "token", outcome: "absent" }] },
      now,
    );
    expect(text).toMatchSnapshot();
    expect(text).toContain("Export license usage");
    expect(text).toContain("`/license-sync refresh`");
  });

  it("invalid, unavailable, and a refused sync status", () => {
    expect(renderCloudFetch({ ...base, outcome: "invalid", attempts: [], problem: "consumed-licenses of acme-corp: [0].users: expected an array" }, now)).toContain(
      "was fetched but could not be read",
    );
    expect(renderCloudFetch({ ...base, outcome: "unavailable", attempts: [], status: 502 }, now)).toContain("GitHub did not answer for the enterprise `acme-corp` (HTTP 502");
    expect(
      renderCloudFetch({ ...base, outcome: "fetched", attempts: [{ credential: "installation", outcome: "used" }], sync: { ok: false, status: 404 } }, now),
    ).toContain("GitHub's license-sync status could not be read (HTTP 404)");
  });
});
