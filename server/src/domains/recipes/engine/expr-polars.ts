// Compiles a (type-checked) expression tree into a polars expression. Each case states the
// engine's semantics explicitly where polars' default differs from the row evaluator:
// division is always true division, integer literals are Int64 (polars would make every
// JS number a Float64), and a null literal takes the type of what it meets.
import pl, { type Expr as PlExpr } from "nodejs-polars";
import type { Dtype } from "./dtypes";
import type { Expr } from "./expr";
import { binaryType, literalType, unaryType, type ExprType } from "./expr-types";
import { plType } from "./polars-types";

interface Compiled {
  expr: PlExpr;
  type: ExprType;
}

export function compileExpr(expr: Expr, columns: ReadonlyMap<string, Dtype>): PlExpr {
  return compile(expr, columns).expr;
}

/** A null literal becomes a typed null once we know what it stands beside. */
const typed = (part: Compiled, as: ExprType): PlExpr =>
  part.type === "null" ? pl.lit(null).cast(plType(as === "null" ? "float" : as)) : part.expr;

function compile(expr: Expr, columns: ReadonlyMap<string, Dtype>): Compiled {
  if ("col" in expr) {
    const type = columns.get(expr.col);
    if (type === undefined) throw new Error(`unknown column ${expr.col}`);
    return { expr: pl.col(expr.col), type };
  }
  if ("lit" in expr) {
    const type = literalType(expr.lit);
    const lit = pl.lit(expr.lit);
    return { expr: type === "int" ? lit.cast(pl.Int64) : lit, type };
  }
  if ("op" in expr) {
    const leftPart = compile(expr.args[0], columns);
    const rightPart = compile(expr.args[1], columns);
    const type = binaryType(expr.op, leftPart.type, rightPart.type);
    const left = typed(leftPart, rightPart.type === "null" ? type : rightPart.type);
    const right = typed(rightPart, leftPart.type === "null" ? type : leftPart.type);
    return { expr: binary(expr.op, left, right, type), type };
  }
  const argPart = compile(expr.args[0], columns);
  const type = unaryType(expr.fn, argPart.type);
  const argAs: Record<typeof expr.fn, ExprType> = {
    not: "bool",
    isNull: "float",
    abs: "float",
    log: "float",
    exp: "float",
    sqrt: "float",
    lower: "string",
    upper: "string",
    length: "string",
  };
  const arg = typed(argPart, argAs[expr.fn]);
  switch (expr.fn) {
    case "not":
      return { expr: arg.not(), type };
    case "isNull":
      return { expr: arg.isNull(), type };
    case "abs":
      return { expr: arg.abs(), type };
    case "log":
      return { expr: arg.cast(pl.Float64).log(Math.E), type };
    case "exp":
      return { expr: arg.cast(pl.Float64).exp(), type };
    case "sqrt":
      return { expr: arg.cast(pl.Float64).pow(0.5), type };
    case "lower":
      return { expr: arg.str.toLowerCase(), type };
    case "upper":
      return { expr: arg.str.toUpperCase(), type };
    case "length":
      return { expr: arg.str.lengths().cast(pl.Int64), type };
  }
}

function binary(op: Extract<Expr, { op: unknown }>["op"], left: PlExpr, right: PlExpr, type: ExprType): PlExpr {
  switch (op) {
    case "+":
      return left.add(right); // concatenates strings, null-propagating like the row path
    case "-":
      return left.sub(right);
    case "*":
      return left.mul(right);
    case "/":
      return left.cast(pl.Float64).div(right.cast(pl.Float64));
    case "==":
      return left.eq(right);
    case "!=":
      return left.neq(right);
    case "<":
      return left.lt(right);
    case "<=":
      return left.ltEq(right);
    case ">":
      return left.gt(right);
    case ">=":
      return left.gtEq(right);
    case "and":
      return left.and(right);
    case "or":
      return left.or(right);
  }
}
