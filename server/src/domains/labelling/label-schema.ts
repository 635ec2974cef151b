// What a label may be, checked once when a task is created and again on every answer; and how
// several answers for one row become the one label an export writes. Pure functions, no I/O.
import { badInput } from "../../platform/errors";

export type LabelSchema =
  | { kind: "classes"; classes: string[] }
  | { kind: "multiLabel"; classes: string[] }
  | { kind: "numeric"; min: number; max: number };

export type LabelValue = string | string[] | number;

const MAX_CLASSES = 1000;
const MAX_CLASS_LENGTH = 200;

export interface LabelSchemaInput {
  kind: string;
  classes?: string[] | null;
  min?: number | null;
  max?: number | null;
}

export function parseLabelSchema(input: LabelSchemaInput): LabelSchema {
  if (input.kind === "classes" || input.kind === "multiLabel") {
    const classes = input.classes ?? [];
    if (classes.length < (input.kind === "classes" ? 2 : 1) || classes.length > MAX_CLASSES) {
      throw badInput(`labelSchema.classes: ${input.kind === "classes" ? 2 : 1} to ${MAX_CLASSES} classes`, { field: "labelSchema.classes" });
    }
    if (classes.some((c) => c.trim() === "" || c.length > MAX_CLASS_LENGTH)) {
      throw badInput(`labelSchema.classes: each class is 1 to ${MAX_CLASS_LENGTH} characters, not blank`, { field: "labelSchema.classes" });
    }
    if (new Set(classes).size !== classes.length) throw badInput("labelSchema.classes: classes must be distinct", { field: "labelSchema.classes" });
    if (input.min != null || input.max != null) throw badInput("labelSchema: min and max are for numeric labels", { field: "labelSchema" });
    return { kind: input.kind, classes: [...classes] };
  }
  if (input.kind === "numeric") {
    const { min, max } = input;
    if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max) || !(min < max)) {
      throw badInput("labelSchema: numeric labels need finite min < max", { field: "labelSchema" });
    }
    if (input.classes?.length) throw badInput("labelSchema: classes are for class labels", { field: "labelSchema" });
    return { kind: "numeric", min, max };
  }
  throw badInput("labelSchema.kind: classes, multiLabel or numeric", { field: "labelSchema.kind" });
}

export interface LabelValueInput {
  class?: string | null;
  classes?: string[] | null;
  number?: number | null;
}

/** The answer as stored (JSON): a class name, a sorted list of class names, or a number. */
export function parseLabelValue(schema: LabelSchema, input: LabelValueInput): LabelValue {
  const given = [input.class, input.classes, input.number].filter((v) => v != null).length;
  const quote = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (schema.kind === "classes") {
    if (given !== 1 || input.class == null) throw badInput("this task takes one class: give value.class", { field: "value.class" });
    if (!schema.classes.includes(input.class)) throw badInput(`${quote(input.class)} is not a class of this task (${schema.classes.slice(0, 20).join(", ")})`, { field: "value.class" });
    return input.class;
  }
  if (schema.kind === "multiLabel") {
    if (given !== 1 || input.classes == null) throw badInput("this task takes a set of classes: give value.classes (may be empty)", { field: "value.classes" });
    const unknown = input.classes.filter((c) => !schema.classes.includes(c));
    if (unknown.length) throw badInput(`${unknown.slice(0, 5).map(quote).join(", ")} ${unknown.length > 1 ? "are not classes" : "is not a class"} of this task`, { field: "value.classes" });
    if (new Set(input.classes).size !== input.classes.length) throw badInput("value.classes: each class at most once", { field: "value.classes" });
    return [...input.classes].sort((a, b) => schema.classes.indexOf(a) - schema.classes.indexOf(b));
  }
  if (given !== 1 || input.number == null) throw badInput("this task takes a number: give value.number", { field: "value.number" });
  if (!Number.isFinite(input.number) || input.number < schema.min || input.number > schema.max) {
    throw badInput(`${input.number} is outside this task's range [${schema.min}, ${schema.max}]`, { field: "value.number" });
  }
  return input.number;
}

/**
 * The one label a row gets from its answers:
 * - classes: the most chosen class; a tie between the most chosen is no label (null), so an
 *   export never turns a coin toss into training data;
 * - multiLabel: the classes chosen by more than half of the row's labellers (possibly none);
 * - numeric: the median of the answers (the mean of the middle two for an even count).
 * No answers is no label (null).
 */
export function consensus(schema: LabelSchema, values: LabelValue[]): LabelValue | null {
  if (values.length === 0) return null;
  if (schema.kind === "classes") {
    const counts = tally(values as string[]);
    const best = Math.max(...counts.values());
    const winners = [...counts].filter(([, n]) => n === best);
    return winners.length === 1 ? winners[0][0] : null;
  }
  if (schema.kind === "multiLabel") {
    const counts = tally((values as string[][]).flat());
    return schema.classes.filter((c) => (counts.get(c) ?? 0) * 2 > values.length);
  }
  const sorted = [...(values as number[])].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function tally(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Whether two answers are the same (a multi-label answer is a set, stored sorted). */
export function sameLabel(a: LabelValue, b: LabelValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
