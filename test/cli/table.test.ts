import { describe, expect, it } from "@jest/globals";
import { countUsage } from "../../src/domain/count.js";
import { SAVINGS_ROWS, formatReport } from "../../src/cli/table.js";

describe("formatReport", () => {
  it("lists the first possible savings and counts the rest (the JSON form has them all)", () => {
    const instance = (i: number) => ({
      instance: { serverId: `s${i}`, hostName: `h${i}.example` },
      accounts: Array.from({ length: SAVINGS_ROWS + 5 }, (_, k) => ({ userId: k + 1, login: `u${k}`, primary: [`u${k}.${i}@x.example`], secondary: [] })),
    });
    const report = countUsage([instance(1), instance(2)], { allEmails: false, logins: false });
    expect(report.possibleSavings).toHaveLength(SAVINGS_ROWS + 5);
    const text = formatReport(report);
    expect(text.match(/^ {2}u\d+ /gm)).toHaveLength(SAVINGS_ROWS);
    expect(text).toContain("… and 5 more logins (--json lists them all)");
    expect(text).toContain(`up to ${SAVINGS_ROWS + 5} seats`);
  });
});
