// Reading the configuration from the environment: what a deployment sets by hand and gets
// wrong. Tried: SQL sources as JSON (valid, not JSON, not an object of postgres URLs, bad
// names), and that an unset or empty variable means the default.
import { describe, expect, it } from "vitest";
import { readConfig } from "./config";

describe("OURO_SQL_SOURCES", () => {
  it("maps names to PostgreSQL URLs", () => {
    const sources = { warehouse: "postgres://reader:pw@db.internal:5432/dw", "crm-2": "postgresql://crm/crm" };
    expect(readConfig({ OURO_SQL_SOURCES: JSON.stringify(sources) }).ingest.sqlSources).toEqual(sources);
  });

  it("means none when unset or empty", () => {
    expect(readConfig({}).ingest.sqlSources).toEqual({});
    expect(readConfig({ OURO_SQL_SOURCES: "" }).ingest.sqlSources).toEqual({});
  });

  it("stops the start with a message naming the variable for text that is not JSON, other URL schemes and bad names", () => {
    for (const value of ["{warehouse: postgres://x}", "[]", '{"w": "http://db/x"}', '{"w": "mysql://db/x"}', '{"w": 5}', '{"bad name": "postgres://db/x"}', '{"../etc": "postgres://db/x"}']) {
      expect(() => readConfig({ OURO_SQL_SOURCES: value }), value).toThrow(/OURO_SQL_SOURCES: (not valid JSON|must map names to postgres:\/\/ URLs)/);
    }
  });
});
