import pl from "nodejs-polars";
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, query } from "../../../../../test/helpers/db";
import { querySql } from "./sql-source";

let url: string;
const opts = { maxRows: 1_000, timeoutMs: 10_000 };

beforeAll(async () => {
  url = await freshDatabase("sql_source");
  await query(
    url,
    `CREATE TABLE source_types (
       id int4 PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, num numeric, t text, vc varchar(10),
       b bool, d date, ts timestamp, tstz timestamptz, j json, jb jsonb, u uuid)`,
  );
  await query(
    url,
    `INSERT INTO source_types VALUES
       (1, 1, 2, 9007199254740993, 1.5, 2.25, 12345.678, 'héllo', 'v', true, '2024-02-29',
        '2024-02-29 13:45:12.123456', '2024-02-29 13:45:12.123456+02', '{"a":1}', '{"b": [1,2]}',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
       (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
       (3, -32768, -2147483648, -9223372036854775808, 'NaN', '-Infinity', 'NaN', '', '', false, '0044-03-15 BC',
        '1969-12-31 23:59:59.999999', 'infinity', 'null', '[]', NULL)`,
  );
  await query(url, "CREATE SEQUENCE source_seq");
});

const column = (df: pl.DataFrame, name: string) => df.getColumn(name).toArray() as unknown[];
const asText = (df: pl.DataFrame, name: string) => df.getColumn(name).cast(pl.Utf8).toArray() as Array<string | null>;
const microsText = (df: pl.DataFrame, name: string) => df.getColumn(name).cast(pl.Int64).cast(pl.Utf8).toArray() as Array<string | null>;

describe("querySql maps PostgreSQL types to polars", () => {
  it("keeps every type and value, nulls included", async () => {
    const df = await querySql(url, "SELECT * FROM source_types ORDER BY id", opts);
    expect(df.shape).toEqual({ height: 3, width: 16 });
    expect(Object.fromEntries(df.columns.map((name, i) => [name, String(df.dtypes[i])]))).toEqual({
      id: "DataType(Int32)",
      i2: "DataType(Int16)",
      i4: "DataType(Int32)",
      i8: "DataType(Int64)",
      f4: "DataType(Float32)",
      f8: "DataType(Float64)",
      num: "DataType(Float64)",
      t: "DataType(String)",
      vc: "DataType(String)",
      b: "DataType(Bool)",
      d: "DataType(Date)",
      ts: "DataType(Datetime(us,))",
      tstz: "DataType(Datetime(us,UTC))",
      j: "DataType(String)",
      jb: "DataType(String)",
      u: "DataType(String)",
    });
  });

  it("keeps int8 values past 2^53 and at the int8 minimum exactly", async () => {
    const df = await querySql(url, "SELECT i8 FROM source_types ORDER BY id", opts);
    expect(asText(df, "i8")).toEqual(["9007199254740993", null, "-9223372036854775808"]);
  });

  it("keeps small ints, floats, NaN and infinities", async () => {
    const df = await querySql(url, "SELECT i2, i4, f4, f8, num FROM source_types ORDER BY id", opts);
    expect(column(df, "i2")).toEqual([1, null, -32768]);
    expect(column(df, "i4")).toEqual([2, null, -2147483648]);
    expect(column(df, "f4")).toEqual([1.5, null, NaN]);
    expect(column(df, "f8")).toEqual([2.25, null, -Infinity]);
    expect(column(df, "num")).toEqual([12345.678, null, NaN]);
  });

  it("keeps text, booleans, json and jsonb as written by PostgreSQL", async () => {
    const df = await querySql(url, "SELECT t, vc, b, j, jb, u FROM source_types ORDER BY id", opts);
    expect(column(df, "t")).toEqual(["héllo", null, ""]);
    expect(column(df, "b")).toEqual([true, null, false]);
    expect(column(df, "j")).toEqual(['{"a":1}', null, "null"]);
    expect(column(df, "jb")).toEqual(['{"b": [1, 2]}', null, "[]"]);
    expect(column(df, "u")).toEqual(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", null, null]);
  });

  it("keeps dates (BC included) and timestamps to the microsecond; timestamptz in UTC; infinity as null", async () => {
    const df = await querySql(url, "SELECT d, ts, tstz FROM source_types ORDER BY id", opts);
    const bc = new Date(Date.UTC(2000, 2, 15));
    bc.setUTCFullYear(-43); // 44 BC is astronomical year -43
    expect(df.getColumn("d").cast(pl.Int32).toArray()).toEqual([Date.UTC(2024, 1, 29) / 86_400_000, null, bc.getTime() / 86_400_000]);
    expect(microsText(df, "ts")).toEqual([`${Date.UTC(2024, 1, 29, 13, 45, 12) / 1000}123456`, null, "-1"]);
    expect(microsText(df, "tstz")).toEqual([`${Date.UTC(2024, 1, 29, 11, 45, 12) / 1000}123456`, null, null]);
  });

  it("returns typed empty columns for an empty result", async () => {
    const df = await querySql(url, "SELECT i8, d, t FROM source_types WHERE false", opts);
    expect(df.height).toBe(0);
    expect(df.dtypes.map(String)).toEqual(["DataType(Int64)", "DataType(Date)", "DataType(String)"]);
  });

  it("runs a statement that is not a query (SHOW) in the same guarded session", async () => {
    const df = await querySql(url, "SHOW TimeZone", opts);
    expect(column(df, "TimeZone")).toEqual(["UTC"]);
  });
});

describe("querySql is read-only", () => {
  const count = async () => Number((await query<{ n: string }>(url, "SELECT count(*) AS n FROM source_types"))[0]!.n);

  it("refuses INSERT because the transaction is read-only", async () => {
    await expect(querySql(url, "INSERT INTO source_types (id) VALUES (99)", opts)).rejects.toThrow(
      /SQL sources are read-only \(cannot execute INSERT in a read-only transaction\)/,
    );
    expect(await count()).toBe(3);
  });

  it("refuses DROP TABLE because the transaction is read-only", async () => {
    await expect(querySql(url, "DROP TABLE source_types", opts)).rejects.toThrow(/cannot execute DROP TABLE in a read-only transaction/);
    expect(await count()).toBe(3);
  });

  it("refuses UPDATE and a DELETE hidden in a WITH", async () => {
    await expect(querySql(url, "UPDATE source_types SET t = 'x'", opts)).rejects.toThrow(/read-only/);
    await expect(querySql(url, "WITH gone AS (DELETE FROM source_types RETURNING *) SELECT * FROM gone", opts)).rejects.toThrow(/read-only/);
    expect(await count()).toBe(3);
  });

  it("refuses a SELECT that writes through a function (nextval)", async () => {
    await expect(querySql(url, "SELECT nextval('source_seq')", opts)).rejects.toThrow(/cannot execute nextval\(\) in a read-only transaction/);
  });

  it("refuses a second statement smuggled after the first", async () => {
    await expect(querySql(url, "SELECT 1; DROP TABLE source_types", opts)).rejects.toThrow(/more than one statement/);
    await expect(querySql(url, "SELECT 1; COMMIT; DROP TABLE source_types", opts)).rejects.toThrow(/more than one statement/);
    expect(await count()).toBe(3);
  });
});

describe("querySql limits", () => {
  it("stops a long query at the timeout", async () => {
    await expect(querySql(url, "SELECT pg_sleep(30)", { maxRows: 10, timeoutMs: 300 })).rejects.toThrow(/did not finish within 300 ms/);
  });

  it("accepts exactly maxRows rows and refuses one more", async () => {
    const df = await querySql(url, "SELECT g FROM generate_series(1, 1000) AS g", { maxRows: 1_000, timeoutMs: 10_000 });
    expect(df.height).toBe(1_000);
    await expect(querySql(url, "SELECT g FROM generate_series(1, 1000) AS g", { maxRows: 999, timeoutMs: 10_000 })).rejects.toThrow(
      /more than 999 rows/,
    );
  });

  it("refuses a huge result after maxRows + 1 rows, without reading the rest (it would hit the timeout)", async () => {
    // generate_series in the select list yields rows lazily; 10^9 of them would not be
    // produced within the timeout, so reaching the maxRows error proves the cursor stopped.
    await expect(querySql(url, "SELECT generate_series(1, 1000000000) AS g", { maxRows: 10, timeoutMs: 5_000 })).rejects.toThrow(
      /more than 10 rows/,
    );
  });
});

describe("querySql reports errors a user can act on", () => {
  it("gives the line and column of a SQL error in the user's own text", async () => {
    await expect(querySql(url, "SELECT id,\n  nope FROM source_types", opts)).rejects.toThrow(/column "nope" does not exist \(line 2, column 3\)/);
    await expect(querySql(url, "SHOW nope_setting", opts)).rejects.toThrow(/unrecognized configuration parameter/);
  });

  it("refuses two result columns with the same name", async () => {
    await expect(querySql(url, "SELECT 1 AS a, 2 AS a", opts)).rejects.toThrow(/two columns named 'a'/);
  });

  it("says when it cannot connect, without the password", async () => {
    const error = await querySql("postgres://someone:hunter2@127.0.0.1:1/nowhere", "SELECT 1", { maxRows: 1, timeoutMs: 2_000 }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).toMatch(/could not connect to the database at 127\.0\.0\.1:1\/nowhere/);
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("refuses a connection string that is not a postgres URL", async () => {
    await expect(querySql("mysql://root@127.0.0.1/db", "SELECT 1", opts)).rejects.toThrow(/postgres:\/\/ URL/);
  });
});
