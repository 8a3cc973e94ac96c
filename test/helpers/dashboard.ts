// For tests about something else: the dashboard issue's calls answered (no dashboard yet, creation
// accepted), optional, so those tests neither mock nor assert them. Dashboard behaviour has its own
// tests (test/handlers/dashboard.test.ts).
import nock from "nock";
import { API } from "./probot.js";

const ISSUES = /^\/repos\/[^/]+\/[^/]+\/issues$/;

export function allowDashboard(): void {
  nock(API).persist().get(ISSUES).query(true).optionally().reply(200, []);
  nock(API).persist().post(ISSUES).optionally().reply(201, { number: 900, state: "open" });
  // The dashboard the ledger remembers (from an earlier push of the test): gone.
  nock(API).persist().get(/^\/repos\/[^/]+\/[^/]+\/issues\/\d+$/).optionally().reply(404, { message: "Not Found" });
}
