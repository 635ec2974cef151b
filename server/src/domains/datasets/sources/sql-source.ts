import pl from "nodejs-polars";
import pg from "pg";
import { badInput, OuroError } from "../../../platform/errors";
import { seriesFromPg } from "./pg-types";
import { lineColumn, parseSingleStatement, type SqlStatement } from "./sql-statement";

export interface SqlQueryOptions {
  /** More rows than this is an error, found after reading maxRows + 1 rows (never all). */
  maxRows: number;
  /** Per statement on the server (statement_timeout) and, as a backstop, on the client. */
  timeoutMs: number;
}

const CURSOR_PREFIX = "DECLARE ouro_source NO SCROLL CURSOR FOR ";

/** Every value as PostgreSQL's text form; pg-types.ts converts them without loss. */
const TEXT_VALUES: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value };

/**
 * Runs one read-only query against a user's PostgreSQL and returns the rows as a DataFrame.
 *
 * Guards, in order: exactly one statement (sql-statement.ts); a READ ONLY transaction, so
 * PostgreSQL itself refuses INSERT, UPDATE, DELETE, DDL and writing functions, whatever the
 * statement looks like; statement_timeout; and for queries a cursor from which maxRows + 1
 * rows are fetched, so a huge result is refused without being transferred. Statements that
 * are not queries (SHOW, EXPLAIN, or an INSERT the transaction will refuse) run as they are.
 *
 * A read-only transaction is not a sandbox: functions such as pg_sleep, pg_terminate_backend
 * or pg_read_file run if the role may call them. Connect as a role that may only SELECT.
 */
export async function querySql(connectionUrl: string, sql: string, opts: SqlQueryOptions): Promise<pl.DataFrame> {
  validateOptions(opts);
  const statement = parseSingleStatement(sql);
  const client = new pg.Client({
    connectionString: checkConnectionUrl(connectionUrl),
    connectionTimeoutMillis: opts.timeoutMs,
    // The server-side timeout should fire first; this catches a server that stops answering.
    query_timeout: opts.timeoutMs + 5_000,
    application_name: "ouro-sql-source",
    types: TEXT_VALUES,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw badInput(`could not connect to the database at ${describeServer(connectionUrl)}: ${(err as Error).message}`);
  }
  try {
    await client.query("BEGIN TRANSACTION READ ONLY");
    await client.query(`SET LOCAL statement_timeout = ${Math.ceil(opts.timeoutMs)}`);
    await client.query("SET LOCAL TimeZone = 'UTC'");
    await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
    const result = await run(client, statement, opts.maxRows);
    if (result.rows.length > opts.maxRows) {
      throw badInput(`the query returns more than ${opts.maxRows} rows, the most accepted; add a WHERE or LIMIT, or raise maxRows`, {
        maxRows: opts.maxRows,
      });
    }
    return toDataFrame(result);
  } catch (err) {
    throw explainPgError(err, statement, opts);
  } finally {
    // Nothing is ever committed: closing the session aborts the transaction. No ROLLBACK is
    // sent first, since after a client-side timeout the server may not be listening.
    await client.end().catch(() => undefined);
  }
}

async function run(client: pg.Client, statement: SqlStatement, maxRows: number): Promise<pg.QueryArrayResult<Array<string | null>>> {
  // queryMode "extended" (Parse/Bind/Execute) makes PostgreSQL itself refuse a second
  // statement, should one ever slip past parseSingleStatement.
  const extended = { queryMode: "extended" } as Record<string, unknown>;
  if (!statement.isQuery) {
    return client.query<Array<string | null>>({ text: statement.body, rowMode: "array", ...extended });
  }
  await client.query({ text: CURSOR_PREFIX + statement.body, ...extended });
  return client.query<Array<string | null>>({ text: `FETCH FORWARD ${maxRows + 1} FROM ouro_source`, rowMode: "array" });
}

function toDataFrame(result: pg.QueryArrayResult<Array<string | null>>): pl.DataFrame {
  const fields = result.fields ?? [];
  const seen = new Set<string>();
  for (const field of fields) {
    if (seen.has(field.name)) throw badInput(`the query returns two columns named '${field.name}'; give them distinct names with AS`);
    seen.add(field.name);
  }
  return pl.DataFrame(
    fields.map((field, index) =>
      seriesFromPg(
        field.name,
        field.dataTypeID,
        result.rows.map((row) => row[index] ?? null),
      ),
    ),
  );
}

interface PgError extends Error {
  code?: string;
  position?: string;
}

function explainPgError(err: unknown, statement: SqlStatement, opts: SqlQueryOptions): Error {
  const error = err as PgError;
  if (!error || typeof error !== "object") return badInput("the query failed");
  if (error instanceof OuroError) return error;
  const code = error.code ?? "";
  if (code === "25006" || /data-modifying statements/.test(error.message)) {
    return badInput(`the query tried to change the database, and SQL sources are read-only (${error.message})`, { sqlState: code });
  }
  if (code === "57014" || /Query read timeout/.test(error.message)) {
    return badInput(`the query did not finish within ${opts.timeoutMs} ms`, { timeoutMs: opts.timeoutMs, sqlState: code || undefined });
  }
  if (/^[0-9A-Z]{5}$/.test(code)) {
    const where = errorPosition(error, statement);
    return badInput(`the query failed: ${error.message}${where ? ` (line ${where.line}, column ${where.column})` : ""}`, {
      sqlState: code,
      ...(where ?? {}),
    });
  }
  return badInput(`the query failed: ${error.message}`);
}

/** PostgreSQL's 1-based character position, moved back into the user's own text. */
function errorPosition(error: PgError, statement: SqlStatement): { line: number; column: number } | undefined {
  const position = Number(error.position);
  if (!Number.isInteger(position) || position < 1) return undefined;
  const offset = position - 1 - (statement.isQuery ? CURSOR_PREFIX.length : 0);
  if (offset < 0 || offset > statement.body.length) return undefined;
  return lineColumn(statement.body, offset);
}

function validateOptions(opts: SqlQueryOptions): void {
  if (!Number.isInteger(opts.maxRows) || opts.maxRows < 0) throw badInput("maxRows must be a whole number ≥ 0");
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) throw badInput("timeoutMs must be a positive number");
}

function checkConnectionUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badInput("the database connection string must be a postgres:// URL");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw badInput("the database connection string must be a postgres:// URL");
  }
  return url;
}

/** host:port/database, never the user name or password. */
function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
