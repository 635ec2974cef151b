// Static typing of expressions against the columns a step sees. Fitting rejects an
// ill-typed expression up front (a string compared with a number, `log` of a date) so the
// batch compiler and the row evaluator only ever meet well-typed trees, where polars and
// plain JavaScript agree. Shared by both paths, so no polars import.
import type { Dtype } from "./dtypes";
import type { BinaryOp, Expr, UnaryFn } from "./expr";

/** "null" is the type of the `null` literal: it adopts whatever type it meets. */
export type ExprType = Dtype | "null";

export class ExprTypeError extends Error {}

export function literalType(value: number | string | boolean | null): ExprType {
  if (value === null) return "null";
  if (typeof value === "number") return Number.isSafeInteger(value) ? "int" : "float";
  return typeof value === "string" ? "string" : "bool";
}

export function inferExprType(expr: Expr, columns: ReadonlyMap<string, Dtype>): ExprType {
  if ("col" in expr) {
    const dtype = columns.get(expr.col);
    if (dtype === undefined) throw new ExprTypeError(`expression reads column "${expr.col}", which does not exist here`);
    return dtype;
  }
  if ("lit" in expr) return literalType(expr.lit);
  if ("op" in expr) {
    return binaryType(expr.op, inferExprType(expr.args[0], columns), inferExprType(expr.args[1], columns));
  }
  return unaryType(expr.fn, inferExprType(expr.args[0], columns));
}

const ORDERED: readonly ExprType[] = ["float", "int", "string", "bool", "date", "datetime"];

export function binaryType(op: BinaryOp, left: ExprType, right: ExprType): ExprType {
  const bad = () => new ExprTypeError(`operator "${op}" cannot combine ${left} and ${right}`);
  switch (op) {
    case "+":
      if (left === "string" || right === "string") {
        if ((left === "string" || left === "null") && (right === "string" || right === "null")) return "string";
        throw bad();
      }
      return arithmeticType(left, right, bad);
    case "-":
    case "*":
      return arithmeticType(left, right, bad);
    case "/":
      // Always true division: polars divides two integer columns with floor division, and
      // JavaScript cannot, so the compiler casts both sides to float.
      if (!numericOrNull(left) || !numericOrNull(right)) throw bad();
      return "float";
    case "and":
    case "or":
      if ((left !== "bool" && left !== "null") || (right !== "bool" && right !== "null")) throw bad();
      return "bool";
    default: {
      // Comparisons. `x == null` is null for every row (as in SQL), which is never what
      // the author meant, so point them to isNull instead.
      if (left === "null" || right === "null") {
        throw new ExprTypeError(`comparing with null always yields null; use {"fn": "isNull"} instead`);
      }
      const comparable = left === right || (numeric(left) && numeric(right));
      if (!comparable || !ORDERED.includes(left)) throw bad();
      return "bool";
    }
  }
}

function arithmeticType(left: ExprType, right: ExprType, bad: () => ExprTypeError): ExprType {
  if (!numericOrNull(left) || !numericOrNull(right)) throw bad();
  if (left === "float" || right === "float") return "float";
  return left === "null" && right === "null" ? "null" : "int";
}

const numeric = (t: ExprType): boolean => t === "float" || t === "int";
const numericOrNull = (t: ExprType): boolean => t === "null" || numeric(t);

export function unaryType(fn: UnaryFn, arg: ExprType): ExprType {
  const expect = (ok: boolean, result: ExprType): ExprType => {
    if (!ok) throw new ExprTypeError(`function "${fn}" cannot take ${arg}`);
    return result;
  };
  switch (fn) {
    case "isNull":
      return "bool";
    case "not":
      return expect(arg === "bool" || arg === "null", "bool");
    case "abs":
      return expect(numericOrNull(arg), arg === "int" ? "int" : "float");
    case "log":
    case "exp":
    case "sqrt":
      return expect(numericOrNull(arg), "float");
    case "lower":
    case "upper":
      return expect(arg === "string" || arg === "null", "string");
    case "length":
      return expect(arg === "string" || arg === "null", "int");
  }
}
