// A safe expression language for filter and derive. Expressions are JSON trees, never
// strings of code: there is nothing to eval, and an unknown operator is a validation
// error. The reader below is hand written (not a recursive zod union) so that it can stop
// at the depth and size limits before recursing further, and so that its messages say
// exactly which node is wrong.

export const BINARY_OPS = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or"] as const;
export const UNARY_FNS = ["not", "isNull", "abs", "log", "exp", "sqrt", "lower", "upper", "length"] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
export type UnaryFn = (typeof UNARY_FNS)[number];
export type Literal = number | string | boolean | null;

export type Expr =
  | { col: string }
  | { lit: Literal }
  | { op: BinaryOp; args: [Expr, Expr] }
  | { fn: UnaryFn; args: [Expr] };

export const MAX_EXPR_DEPTH = 20;
export const MAX_EXPR_NODES = 200;
const MAX_LITERAL_LENGTH = 10_000;

export class ExprSyntaxError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads an untrusted JSON value as an Expr, or throws ExprSyntaxError naming the bad node. */
export function readExpr(value: unknown): Expr {
  const budget = { nodes: 0 };
  return readNode(value, "", 1, budget);
}

function readNode(value: unknown, path: string, depth: number, budget: { nodes: number }): Expr {
  if (depth > MAX_EXPR_DEPTH) {
    throw new ExprSyntaxError(path, `expression is nested deeper than ${MAX_EXPR_DEPTH} levels`);
  }
  if (++budget.nodes > MAX_EXPR_NODES) {
    throw new ExprSyntaxError(path, `expression has more than ${MAX_EXPR_NODES} nodes`);
  }
  if (typeof value === "string") {
    throw new ExprSyntaxError(
      path,
      `a string is not an expression; expressions are JSON trees such as {"col": "x"} or {"op": "+", "args": [...]}, never code`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ExprSyntaxError(path, "an expression must be an object with one of col, lit, op or fn");
  }
  const node = value as Record<string, unknown>;
  const keys = Object.keys(node).sort().join(",");
  if (keys === "col") {
    if (typeof node.col !== "string" || node.col.length === 0 || node.col.length > 256) {
      throw new ExprSyntaxError(path, "col must be a column name");
    }
    return { col: node.col };
  }
  if (keys === "lit") return { lit: readLiteral(node.lit, path) };
  if (keys === "args,op") {
    const op = node.op;
    if (typeof op !== "string" || !(BINARY_OPS as readonly string[]).includes(op)) {
      throw new ExprSyntaxError(path, `op ${JSON.stringify(op)} is not one of ${BINARY_OPS.join(" ")}`);
    }
    const args = readArgs(node.args, 2, path);
    return {
      op: op as BinaryOp,
      args: [readNode(args[0], `${path}.args[0]`, depth + 1, budget), readNode(args[1], `${path}.args[1]`, depth + 1, budget)],
    };
  }
  if (keys === "args,fn") {
    const fn = node.fn;
    if (typeof fn !== "string" || !(UNARY_FNS as readonly string[]).includes(fn)) {
      throw new ExprSyntaxError(path, `fn ${JSON.stringify(fn)} is not one of ${UNARY_FNS.join(", ")}`);
    }
    const args = readArgs(node.args, 1, path);
    return { fn: fn as UnaryFn, args: [readNode(args[0], `${path}.args[0]`, depth + 1, budget)] };
  }
  throw new ExprSyntaxError(
    path,
    `expression has keys {${keys}}; expected exactly one of {col}, {lit}, {op, args} or {fn, args}`,
  );
}

function readLiteral(value: unknown, path: string): Literal {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.length <= MAX_LITERAL_LENGTH) return value;
  throw new ExprSyntaxError(
    path,
    `literal must be a finite number, a string (≤ ${MAX_LITERAL_LENGTH} chars), a boolean or null`,
  );
}

function readArgs(value: unknown, count: number, path: string): unknown[] {
  if (!Array.isArray(value) || value.length !== count) {
    throw new ExprSyntaxError(path, `args must be an array of ${count} expression(s)`);
  }
  return value;
}

/** Every column an expression reads, in first-seen order. */
export function exprColumns(expr: Expr, into: string[] = []): string[] {
  if ("col" in expr) {
    if (!into.includes(expr.col)) into.push(expr.col);
  } else if ("args" in expr) {
    for (const arg of expr.args) exprColumns(arg, into);
  }
  return into;
}
