import { badInput } from "../../../platform/errors";

export interface SqlStatement {
  /** The one statement, without the trailing semicolon(s) and what followed them. */
  body: string;
  /** Lower-cased first keyword ("select", "with", "insert", ...), or "(" for a parenthesised query. */
  firstWord: string;
  /** A query a cursor can be declared over (SELECT, WITH, VALUES, TABLE or parenthesised). */
  isQuery: boolean;
}

const QUERY_WORDS = new Set(["select", "with", "values", "table", "("]);

/**
 * Splits SQL into statements the way PostgreSQL's lexer would, to refuse more than one: a
 * ";" counts only outside string literals ('…', E'…' with backslash escapes), quoted
 * identifiers ("…"), dollar-quoted bodies ($tag$…$tag$) and comments (-- to the line end,
 * and block comments, which nest in PostgreSQL).
 * The server is also asked to parse with the extended protocol, which refuses several
 * statements by itself; this check runs first so the message can say where the second began.
 */
export function parseSingleStatement(sql: string): SqlStatement {
  if (typeof sql !== "string" || sql.trim() === "") throw badInput("the SQL query is empty");
  if (sql.includes("\u0000")) throw badInput("the SQL query contains a NUL character");
  const segments: Array<{ start: number; end: number; firstWord?: string; firstAt: number }> = [];
  let start = 0;
  let firstWord: string | undefined;
  let firstAt = 0;
  let i = 0;
  const at = (k: number) => sql[k] ?? "";
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "-" && at(i + 1) === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (c === "/" && at(i + 1) === "*") {
      i = skipBlockComment(sql, i);
    } else if (c === "'") {
      const escapes = /[eE]/.test(at(i - 1)) && !/[\w$]/.test(at(i - 2));
      i = skipQuoted(sql, i, "'", escapes);
    } else if (c === '"') {
      i = skipQuoted(sql, i, '"', false);
    } else if (c === "$" && !/[\w$]/.test(at(i - 1))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 100));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        if (close === -1) throw unterminated(sql, i, `dollar-quoted string ${tag[0]}`);
        i = close + tag[0].length;
      } else i++; // $1 and the like
    } else if (c === ";") {
      segments.push({ start, end: i, firstAt, ...(firstWord ? { firstWord } : {}) });
      firstWord = undefined;
      start = ++i;
    } else {
      if (!firstWord && !/\s/.test(c)) {
        firstWord = c === "(" ? "(" : (/^[A-Za-z_]\w*/.exec(sql.slice(i, i + 64))?.[0] ?? c).toLowerCase();
        firstAt = i;
      }
      i++;
    }
  }
  segments.push({ start, end: sql.length, firstAt, ...(firstWord ? { firstWord } : {}) });
  const statements = segments.filter((s) => s.firstWord !== undefined);
  if (statements.length === 0) throw badInput("the SQL query has no statement (only comments or semicolons)");
  if (statements.length > 1) {
    const { line, column } = lineColumn(sql, statements[1]!.firstAt);
    throw badInput(`the SQL contains more than one statement (the second starts at line ${line}, column ${column}); send exactly one query`, {
      line,
      column,
    });
  }
  const only = statements[0]!;
  const word = only.firstWord!;
  return { body: sql.slice(only.start, only.end), firstWord: word, isQuery: QUERY_WORDS.has(word) };
}

function skipBlockComment(sql: string, from: number): number {
  // PostgreSQL block comments nest, so the comment ends at the matching close, not the first.
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === "/" && sql[i + 1] === "*") {
      depth++;
      i += 2;
    } else if (sql[i] === "*" && sql[i + 1] === "/") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  throw unterminated(sql, from, "comment /*");
}

function skipQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === "\\") i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2; // doubled quote: an escaped quote
    else if (c === quote) return i + 1;
    else i++;
  }
  throw unterminated(sql, from, quote === "'" ? "string literal" : "quoted identifier");
}

function unterminated(sql: string, offset: number, what: string) {
  const { line, column } = lineColumn(sql, offset);
  return badInput(`the SQL has an unterminated ${what} starting at line ${line}, column ${column}`, { line, column });
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
