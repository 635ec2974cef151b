// Evaluates an expression on one row, with polars' semantics: nulls propagate through
// arithmetic and comparisons, `and`/`or` use three-valued (Kleene) logic, NaN equals NaN
// and sorts above every number, `/` is true division. The tree was type-checked when the
// recipe was fitted, so the casts below only restate what is already known.
import type { Expr } from "./expr";
import { charLength, compareValues } from "./values";

type Value = number | string | boolean | null;
export type RowValues = ReadonlyMap<string, unknown>;

export function evalExpr(expr: Expr, row: RowValues): Value {
  if ("col" in expr) return (row.get(expr.col) ?? null) as Value;
  if ("lit" in expr) return expr.lit;
  if ("op" in expr) {
    const left = evalExpr(expr.args[0], row);
    const right = evalExpr(expr.args[1], row);
    if (expr.op === "and") return kleeneAnd(left as boolean | null, right as boolean | null);
    if (expr.op === "or") return kleeneOr(left as boolean | null, right as boolean | null);
    if (left === null || right === null) return null;
    switch (expr.op) {
      case "+":
        return typeof left === "string" ? left + (right as string) : (left as number) + (right as number);
      case "-":
        return (left as number) - (right as number);
      case "*":
        return (left as number) * (right as number);
      case "/":
        return (left as number) / (right as number);
      case "==":
        return compareValues(left, right) === 0;
      case "!=":
        return compareValues(left, right) !== 0;
      case "<":
        return compareValues(left, right) < 0;
      case "<=":
        return compareValues(left, right) <= 0;
      case ">":
        return compareValues(left, right) > 0;
      case ">=":
        return compareValues(left, right) >= 0;
    }
  }
  const arg = evalExpr(expr.args[0], row);
  if (expr.fn === "isNull") return arg === null;
  if (arg === null) return null;
  switch (expr.fn) {
    case "not":
      return !arg;
    case "abs":
      return Math.abs(arg as number);
    case "log":
      return Math.log(arg as number);
    case "exp":
      return Math.exp(arg as number);
    case "sqrt":
      // The batch path writes x.pow(0.5), which polars evaluates as a true square root
      // (sqrt(-Infinity) is NaN, not the Infinity that Math.pow would give).
      return Math.sqrt(arg as number);
    case "lower":
      return (arg as string).toLowerCase();
    case "upper":
      return (arg as string).toUpperCase();
    case "length":
      return charLength(arg as string);
  }
}

function kleeneAnd(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}

function kleeneOr(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  return a === null || b === null ? null : false;
}
