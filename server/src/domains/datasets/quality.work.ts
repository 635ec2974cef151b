import pl from "nodejs-polars";

// Data-quality expectations, evaluated with polars in a task subprocess.

export type Expectation =
  | { kind: "notNull"; column: string }
  | { kind: "range"; column: string; min?: number | null; max?: number | null }
  | { kind: "allowedSet"; column: string; values: string[] }
  | { kind: "unique"; column: string }
  | { kind: "regex"; column: string; pattern: string }
  | { kind: "rowCount"; min?: number | null; max?: number | null };

export interface ExpectationResult {
  expectation: Expectation;
  passed: boolean;
  /** Rows that break it (for rowCount, or a missing or non-numeric-for-range column: the row count). */
  failing: number;
  /** Up to five offending values, as text. */
  examples: string[];
  message: string;
}

export interface QualityReport {
  passed: boolean;
  results: ExpectationResult[];
}

const EXAMPLES = 5;
/** A number written plainly ("1", "-2.5", "3e2"); not "", " ", "0x10" or "Infinity", which Number() would also read. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** More digits than any 64-bit integer has: such a value cannot be in an integer column. */
const INT64_DIGITS = 20;

const isInteger = (series: pl.Series) => /^U?Int\d+$/.test((series.dtype as unknown as { variant: string }).variant);

/**
 * The plainly written numbers among `values` that are whole, each as polars writes an integer
 * ("3e0" and "3.00" become "3", "-0" becomes "0"), worked out on the digits so nothing is
 * rounded. Fractions, and numbers too long for 64 bits, allow nothing in an integer column.
 */
function integerTexts(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const m = /^([+-]?)(\d*)\.?(\d*)(?:e([+-]?\d+))?$/i.exec(v);
    if (!m || !DECIMAL.test(v)) continue;
    const [, sign, whole, fraction, exp] = m;
    let digits = (whole + fraction).replace(/^0+/, "");
    let shift = Number(exp ?? 0) - fraction.length;
    if (digits === "") {
      out.push("0");
      continue;
    }
    // Trailing zeros only move the decimal point.
    const zeros = /0*$/.exec(digits)![0].length;
    digits = digits.slice(0, digits.length - zeros);
    shift += zeros;
    if (shift < 0 || digits.length + shift > INT64_DIGITS) continue;
    out.push((sign === "-" ? "-" : "") + digits + "0".repeat(shift));
  }
  return out;
}

function check(df: pl.DataFrame, e: Expectation): ExpectationResult {
  if (e.kind === "rowCount") {
    const ok = (e.min == null || df.height >= e.min) && (e.max == null || df.height <= e.max);
    return { expectation: e, passed: ok, failing: ok ? 0 : df.height, examples: [], message: ok ? "ok" : `${df.height} rows, expected ${e.min ?? "-"}..${e.max ?? "-"}` };
  }
  if (!df.columns.includes(e.column)) {
    return { expectation: e, passed: false, failing: df.height, examples: [], message: `column ${e.column} does not exist` };
  }
  // Cast to numbers, text becomes null and nulls never break a range: the check would pass
  // whatever the data (and Bool or dates would be compared as 0/1 or day counts). A column of
  // the wrong type fails like a missing one.
  const series = df.getColumn(e.column);
  if (e.kind === "range" && !series.isNumeric()) {
    const type = (series.dtype as unknown as { variant: string }).variant;
    const what = type === "String" ? "text (String)" : type;
    return { expectation: e, passed: false, failing: df.height, examples: [], message: `column ${e.column} is ${what}, not numeric: range needs a numeric column` };
  }
  const col = pl.col(e.column);
  let bad: pl.Expr;
  switch (e.kind) {
    case "notNull":
      bad = col.isNull();
      break;
    case "range": {
      const v = col.cast(pl.Float64);
      bad = pl.lit(false);
      if (e.min != null) bad = bad.or(v.lt(e.min));
      if (e.max != null) bad = bad.or(v.gt(e.max));
      break;
    }
    case "allowedSet":
      // The values arrive as text. A numeric column compares as numbers ("1" allows 1.0 and
      // 1; text that is not a number allows nothing), anything else as text. An integer
      // column compares exactly: as float64, Int64 values past 2^53 would round together.
      bad = isInteger(series)
        ? col.isNotNull().and(col.cast(pl.Utf8).isIn(integerTexts(e.values)).not())
        : series.isNumeric()
          ? col.isNotNull().and(col.cast(pl.Float64).isIn(e.values.filter((v) => DECIMAL.test(v)).map(Number)).not())
          : col.isNotNull().and(col.cast(pl.Utf8).isIn(e.values).not());
      break;
    case "unique":
      bad = col.isNotNull().and(col.isDuplicated());
      break;
    case "regex":
      // Polars' regex engine runs in linear time: a hostile pattern cannot stall the worker.
      bad = col.isNotNull().and(col.cast(pl.Utf8).str.contains(e.pattern).not());
      break;
  }
  const failingRows = df.filter(bad.fillNull(false));
  const examples = failingRows.getColumn(e.column).head(EXAMPLES).cast(pl.Utf8).toArray().map((v) => String(v));
  const failing = failingRows.height;
  return { expectation: e, passed: failing === 0, failing, examples, message: failing === 0 ? "ok" : `${failing} of ${df.height} rows fail` };
}

export function evaluateExpectations(df: pl.DataFrame, expectations: Expectation[]): QualityReport {
  const results = expectations.map((e) => {
    try {
      return check(df, e);
    } catch (err) {
      return { expectation: e, passed: false, failing: 0, examples: [], message: `could not evaluate: ${(err as Error).message.split("\n")[0]}` };
    }
  });
  return { passed: results.every((r) => r.passed), results };
}
