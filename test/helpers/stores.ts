// The two store adapters for fault and load tests: SQLite always; PostgreSQL when reachable at
// TEST_DATABASE_URL (each in its own throw-away schema), and a failing test instead of a skip when
// REQUIRE_POSTGRES=1.
import { describe, it } from "@jest/globals";
import { postgresAdapter, postgresReachable, REQUIRE_POSTGRES, sqliteAdapter, type Adapter } from "../storage/support.js";

export interface AdapterCase {
  name: "sqlite" | "postgres";
  make: () => Adapter;
}

export async function adapterCases(): Promise<AdapterCase[]> {
  const pgUp = await postgresReachable();
  if (!pgUp && REQUIRE_POSTGRES) {
    describe("postgres", () => {
      it("is reachable (REQUIRE_POSTGRES=1)", () => {
        throw new Error("PostgreSQL is not reachable at TEST_DATABASE_URL; it is required here");
      });
    });
  }
  return [{ name: "sqlite", make: sqliteAdapter }, ...(pgUp ? [{ name: "postgres" as const, make: () => postgresAdapter() }] : [])];
}
