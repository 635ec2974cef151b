// The recipe language: an ordered list of typed steps, validated with zod before anything
// runs. Objects are strict (a misspelt key is an error, not silently ignored) and every
// error names the step index, so a user can find the step to fix in a long recipe.
import { z } from "zod";
import { badInput } from "../../../platform/errors";
import { ExprSyntaxError, readExpr, type Expr } from "./expr";

const MAX_STEPS = 200;
const MAX_LIST = 1000;

const column = z.string().min(1).max(256);
const columns = z.array(column).min(1).max(MAX_LIST);

/** An Expr, read by the hand-written reader so depth/size limits apply before recursion. */
const expr = z.unknown().transform((value, ctx): Expr => {
  try {
    return readExpr(value);
  } catch (err) {
    if (!(err instanceof ExprSyntaxError)) throw err;
    ctx.addIssue({ code: "custom", message: err.message, path: err.path ? [err.path.slice(1)] : [] });
    return z.NEVER;
  }
});

export const AGG_FNS = ["count", "sum", "mean", "min", "max", "std", "nUnique", "first", "last"] as const;
const agg = z.strictObject({ column, fn: z.enum(AGG_FNS), as: column.optional() });
export type AggSpec = z.output<typeof agg>;

// A polars duration ("1h", "7d", "3d12h"). Calendar units (mo, y) are allowed; index
// counts ("3i") are not, because `time` must be a date or datetime column.
const duration = z
  .string()
  .regex(/^(?:[1-9][0-9]*(?:ns|us|ms|s|m|h|d|w|mo|y))+$/, 'a duration such as "1h", "1d", "7d" or "3d12h"');

export const DATE_PARTS = ["year", "month", "day", "weekday", "hour", "dayOfYear"] as const;
const scalarValue = z.union([z.number(), z.string().max(10_000), z.boolean()]);
const distinct = (list: readonly string[]) => new Set(list).size === list.length;

export const STEP_SCHEMAS = {
  select: z.strictObject({ op: z.literal("select"), columns: columns.refine(distinct, "columns repeat") }),
  drop: z.strictObject({ op: z.literal("drop"), columns }),
  rename: z.strictObject({
    op: z.literal("rename"),
    mapping: z.record(column, column).refine((m) => Object.keys(m).length > 0, "mapping is empty"),
  }),
  cast: z.strictObject({
    op: z.literal("cast"),
    column,
    to: z.enum(["float", "int", "string", "bool", "date", "datetime"]),
  }),
  filter: z.strictObject({ op: z.literal("filter"), where: expr }),
  derive: z.strictObject({ op: z.literal("derive"), column, expr }),
  fillNull: z
    .strictObject({
      op: z.literal("fillNull"),
      columns,
      strategy: z.enum(["constant", "mean", "median", "mode", "forward"]),
      value: scalarValue.optional(),
    })
    .refine((s) => (s.strategy === "constant") === (s.value !== undefined), {
      message: 'value is required with strategy "constant" and not allowed otherwise',
      path: ["value"],
    }),
  dropNulls: z.strictObject({ op: z.literal("dropNulls"), columns: columns.optional() }),
  clip: z
    .strictObject({ op: z.literal("clip"), column, min: z.number().optional(), max: z.number().optional() })
    .refine((s) => s.min !== undefined || s.max !== undefined, "give min, max or both")
    .refine((s) => s.min === undefined || s.max === undefined || s.min <= s.max, "min is greater than max"),
  oneHot: z.strictObject({
    op: z.literal("oneHot"),
    column,
    maxCategories: z.int().min(1).max(1000).default(50),
    dropOriginal: z.boolean().default(true),
  }),
  ordinalEncode: z.strictObject({ op: z.literal("ordinalEncode"), column, unknown: z.int().default(-1) }),
  standardize: z.strictObject({ op: z.literal("standardize"), columns }),
  minMax: z.strictObject({ op: z.literal("minMax"), columns }),
  bucketize: z.strictObject({
    op: z.literal("bucketize"),
    column,
    boundaries: z
      .array(z.number())
      .min(1)
      .max(256)
      .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] as number)), "boundaries must be strictly increasing"),
  }),
  dateParts: z.strictObject({
    op: z.literal("dateParts"),
    column,
    parts: z.array(z.enum(DATE_PARTS)).min(1).refine(distinct, "parts repeat"),
  }),
  join: z.strictObject({
    op: z.literal("join"),
    with: z.string().min(1).max(256),
    on: z.union([column, z.strictObject({ left: column, right: column })]),
    how: z.enum(["left", "inner"]).default("left"),
    columns: columns.optional(),
  }),
  groupBy: z.strictObject({ op: z.literal("groupBy"), by: columns, aggs: z.array(agg).min(1).max(MAX_LIST) }),
  rolling: z.strictObject({
    op: z.literal("rolling"),
    entity: column,
    time: column,
    window: duration,
    aggs: z.array(agg).min(1).max(MAX_LIST),
  }),
  flattenJson: z.strictObject({ op: z.literal("flattenJson"), column, prefix: z.string().max(256).optional() }),
  textHash: z.strictObject({
    op: z.literal("textHash"),
    column,
    buckets: z.int().min(2).max(2 ** 18),
    tfidf: z.boolean().default(false),
    prefix: z.string().max(256).optional(),
  }),
} as const;

type Schemas = typeof STEP_SCHEMAS;
export type StepOp = keyof Schemas;
export type RecipeStep = { [K in StepOp]: z.output<Schemas[K]> }[StepOp];
/** What a user writes (defaults not yet filled in). */
export type RecipeStepInput = { [K in StepOp]: z.input<Schemas[K]> }[StepOp];
export type StepOf<K extends StepOp> = z.output<Schemas[K]>;

export const STEP_OPS = Object.keys(STEP_SCHEMAS) as StepOp[];
const isOp = (op: string): op is StepOp => Object.hasOwn(STEP_SCHEMAS, op);

/** Validates untrusted JSON as a recipe. Throws BAD_USER_INPUT naming the first bad step. */
export function parseSteps(json: unknown): RecipeStep[] {
  if (!Array.isArray(json)) throw badInput("a recipe must be a JSON array of steps");
  if (json.length > MAX_STEPS) throw badInput(`a recipe has at most ${MAX_STEPS} steps; this one has ${json.length}`);
  return json.map((raw: unknown, index) => parseStep(raw, index));
}

function parseStep(raw: unknown, index: number): RecipeStep {
  const op = raw !== null && typeof raw === "object" ? (raw as { op?: unknown }).op : undefined;
  if (typeof op !== "string") {
    throw badInput(`step ${index}: a step must be an object with an "op" field`, { step: index });
  }
  if (!isOp(op)) {
    throw badInput(`step ${index}: unknown op "${op}"; expected one of ${STEP_OPS.join(", ")}`, { step: index, op });
  }
  const result = STEP_SCHEMAS[op].safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.message,
    }));
    const first = issues[0];
    const where = first?.path ? `${first.path}: ` : "";
    throw badInput(`step ${index} (${op}): ${where}${first?.message ?? "invalid step"}`, { step: index, op, issues });
  }
  return result.data as RecipeStep;
}
