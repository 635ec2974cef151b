import { describe, expect, it } from "vitest";
import { parseSingleStatement } from "./sql-statement";

describe("parseSingleStatement refuses", () => {
  const cases: Array<[what: string, sql: string, says: RegExp]> = [
    ["two statements", "SELECT 1; DROP TABLE users", /more than one statement \(the second starts at line 1, column 11\)/],
    ["a second statement after a comment", "SELECT 1; -- harmless?\nDELETE FROM users", /more than one statement \(the second starts at line 2, column 1\)/],
    ["a statement hidden after a closed string", "SELECT 'a;b'; DROP TABLE t", /more than one statement/],
    ["a statement after a dollar-quoted body", "SELECT $x$ ; $x$; DROP TABLE t", /more than one statement/],
    ["a statement after an E-string with an escaped quote", "SELECT E'it\\'s'; DROP TABLE t", /more than one statement/],
    ["a statement after a nested block comment", "SELECT 1 /* a /* b */ ; */; DROP TABLE t", /more than one statement/],
    ["an empty query", "   ", /empty/],
    ["only comments", "-- nothing\n/* here */ ;", /no statement/],
    ["an unterminated string", "SELECT 'abc", /unterminated string literal starting at line 1, column 8/],
    ["an unterminated block comment", "SELECT 1 /* /* */", /unterminated comment/],
    ["an unterminated dollar quote", "SELECT $tag$ abc", /unterminated dollar-quoted string \$tag\$/],
    ["a NUL character", "SELECT 1\u0000; DROP TABLE t", /NUL/],
  ];
  for (const [what, sql, says] of cases) {
    it(what, () => expect(() => parseSingleStatement(sql)).toThrow(says));
  }
});

describe("parseSingleStatement accepts one statement", () => {
  it("with a trailing semicolon and comment", () => {
    expect(parseSingleStatement("SELECT 1; -- done\n")).toMatchObject({ body: "SELECT 1", firstWord: "select", isQuery: true });
  });

  it("with semicolons inside strings, identifiers, dollar quotes and comments", () => {
    const sql = `SELECT ';' AS "a;b", $$;$$, $fn$ ; $fn$, E'\\';' -- ;\n /* ; /* ; */ ; */ FROM t`;
    expect(parseSingleStatement(sql).body).toBe(sql);
  });

  it("with doubled quotes inside a literal", () => {
    expect(parseSingleStatement("SELECT 'it''s; fine'").isQuery).toBe(true);
  });

  it("classifying queries and other statements", () => {
    expect(parseSingleStatement("  with x as (select 1) select * from x").firstWord).toBe("with");
    expect(parseSingleStatement("(SELECT 1) UNION (SELECT 2)").isQuery).toBe(true);
    expect(parseSingleStatement("VALUES (1), (2)").isQuery).toBe(true);
    expect(parseSingleStatement("TABLE users").isQuery).toBe(true);
    expect(parseSingleStatement("/* lead */ INSERT INTO t VALUES (1)")).toMatchObject({ firstWord: "insert", isQuery: false });
    expect(parseSingleStatement("SHOW server_version").isQuery).toBe(false);
  });

  it("with a positional parameter sign that is not a dollar quote", () => {
    expect(parseSingleStatement("SELECT a$b, $1 FROM t").isQuery).toBe(true);
  });
});
