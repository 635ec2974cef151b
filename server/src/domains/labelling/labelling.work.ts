// Runs in a task subprocess (see platform/subprocess.ts): polars and TensorFlow.js calls block
// the thread, and scoring a whole dataset version with a model is CPU work.
import pl from "nodejs-polars";
import { badInput } from "../../platform/errors";
import type { Converted } from "../datasets/ingest.work";
import { readParquetFile } from "../datasets/parquet";
import { schemaOf } from "../datasets/profile.work";
import { writeParquet } from "../datasets/sources/write-parquet";
import { featureMatrix, formatPredictions, loadModel, predictMatrix, type SavedModel } from "../models/training";
import { permutation, seededRandom } from "../models/training/random";
import { applyBatch, type FittedRecipe } from "../recipes/engine";
import { toRows } from "../recipes/engine/polars-types";
import type { LabelSchema, LabelValue } from "./label-schema";

/** A logged prediction offered for selection: its inputs and what the deployment answered. */
export interface LoggedRow {
  requestId: string;
  inputs: Record<string, unknown>;
  outputs: { prediction?: unknown; probabilities?: unknown };
}

export interface SelectInput {
  /** A dataset version's Parquet; or null, and `logged` holds the candidate rows. */
  file: string | null;
  logged: LoggedRow[] | null;
  size: number;
  seed: number;
  /**
   * random: a seeded sample. leastConfident: the rows whose top class probability is lowest
   * (from `model`, else from the logged probabilities). modelVsColumn: rows where `model`
   * disagrees with `compareColumn`, most confident first. rows: exactly `rows`, in order.
   */
  strategy: "random" | "leastConfident" | "modelVsColumn" | "rows";
  model: SavedModel | null;
  fitted: FittedRecipe | null;
  compareColumn: string | null;
  /** For "rows": row indices (dataset) or positions in `logged`, with the score to keep. */
  rows: { index: number; score: number | null }[] | null;
}

export interface SelectedRow {
  rowIndex: number | null;
  requestId: string | null;
  values: Record<string, unknown>;
  score: number | null;
  prediction: unknown;
}

interface Scored {
  confidence: Float64Array;
  predicted: string[];
  prediction: (i: number) => unknown;
}

/** The model's top-class probability and predicted class for every row of `frame`. */
async function scoreWithModel(frame: pl.DataFrame, model: SavedModel, fitted: FittedRecipe | null): Promise<Scored> {
  const loaded = await loadModel(model);
  try {
    const prepared = fitted ? applyBatch(frame, fitted) : frame;
    const x = featureMatrix(prepared, loaded.saved.signature.features.map((f) => f.name));
    const p = formatPredictions(loaded.saved, predictMatrix(loaded, x, prepared.height), prepared.height);
    if (p.task === "regression") throw badInput("a regression model has no class confidence; use a classification model");
    const confidence = Float64Array.from(p.probabilities, (row) => Math.max(...row));
    return {
      confidence,
      predicted: p.labels,
      prediction: (i) => ({ label: p.labels[i], probabilities: Object.fromEntries(p.classes.map((c, k) => [c, round(p.probabilities[i][k])])) }),
    };
  } finally {
    loaded.dispose();
  }
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/** The top probability a deployment logged: probabilities as a list or as {class: p}. */
function loggedConfidence(outputs: LoggedRow["outputs"]): number | null {
  const p = outputs.probabilities;
  const values = Array.isArray(p) ? p : p && typeof p === "object" ? Object.values(p) : [];
  const numbers = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  return numbers.length ? Math.max(...numbers) : null;
}

export async function selectRows(input: SelectInput): Promise<{ items: SelectedRow[]; candidates: number }> {
  const logged = input.logged;
  const frame = input.file ? readParquetFile(input.file) : logged!.length ? pl.readRecords(logged!.map((r) => r.inputs), { inferSchemaLength: logged!.length }) : pl.DataFrame({});
  const n = input.file ? frame.height : logged!.length;
  // A seeded order breaks every tie, so the same task settings always give the same queue.
  const order = permutation(n, seededRandom(input.seed));
  let chosen: { index: number; score: number | null; prediction: unknown }[] = [];

  if (input.strategy === "random") {
    chosen = Array.from(order.subarray(0, Math.min(input.size, n)), (index) => ({ index, score: null, prediction: logged?.[index]?.outputs ?? null }));
  } else if (input.strategy === "rows") {
    chosen = input.rows!.filter((r) => r.index >= 0 && r.index < n).map((r) => ({ ...r, prediction: logged?.[r.index]?.outputs ?? null }));
  } else if (input.strategy === "leastConfident") {
    let confidence: (i: number) => number | null;
    let prediction: (i: number) => unknown;
    if (input.model) {
      const s = await scoreWithModel(frame, input.model, input.fitted);
      confidence = (i) => s.confidence[i];
      prediction = s.prediction;
    } else {
      if (!logged) throw badInput("least-confident selection over a dataset version needs a model version");
      confidence = (i) => loggedConfidence(logged[i].outputs);
      prediction = (i) => logged[i].outputs;
    }
    const ranked = Array.from(order).map((index) => ({ index, c: confidence(index) })).filter((r): r is { index: number; c: number } => r.c !== null);
    ranked.sort((a, b) => a.c - b.c); // stable: equal confidence keeps the seeded order
    chosen = ranked.slice(0, input.size).map((r) => ({ index: r.index, score: r.c, prediction: prediction(r.index) }));
  } else {
    if (!input.model || !input.compareColumn) throw badInput("model-versus-label disagreement needs a model version and compareColumn");
    if (!frame.columns.includes(input.compareColumn)) throw badInput(`compareColumn ${input.compareColumn} is not a column of the source (columns: ${frame.columns.slice(0, 30).join(", ")})`);
    const s = await scoreWithModel(frame, input.model, input.fitted);
    const known = frame.getColumn(input.compareColumn).toArray() as unknown[];
    const ranked = Array.from(order).filter((i) => known[i] != null && String(known[i]) !== s.predicted[i]);
    ranked.sort((a, b) => s.confidence[b] - s.confidence[a]); // confidently wrong first
    chosen = ranked.slice(0, input.size).map((index) => ({ index, score: s.confidence[index], prediction: s.prediction(index) }));
  }

  const rows = chosen.length && input.file ? toRows(frame.select(pl.all().gather(chosen.map((c) => c.index)))) : [];
  const items = chosen.map((c, k) => ({
    rowIndex: input.file ? c.index : null,
    requestId: logged ? logged[c.index].requestId : null,
    values: input.file ? rows[k] : logged![c.index].inputs,
    score: c.score,
    prediction: c.prediction ?? null,
  }));
  return { items, candidates: n };
}

export interface ExportInput {
  /** The source version's Parquet; or null, and `logged` holds the queued prediction-log rows. */
  file: string | null;
  logged: { requestId: string; inputs: Record<string, unknown>; prediction: unknown }[] | null;
  /** Per labelled row: its row index (dataset) or its position in `logged`. */
  labels: { index: number; label: LabelValue | null; votes: number }[];
  schema: LabelSchema;
  labelColumn: string;
  labelledOnly: boolean;
  out: string;
}

const plain = (v: unknown) => (v === null || v === undefined || typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? (v ?? null) : JSON.stringify(v));

/**
 * The source rows with two columns added: `<labelColumn>` (the consensus label; null where a
 * row has no label or a tie) and `<labelColumn>_votes` (how many answers it had).
 */
export async function writeLabelled(input: ExportInput): Promise<Converted & { labelled: number }> {
  let frame: pl.DataFrame;
  if (input.file) frame = readParquetFile(input.file);
  else {
    const records = input.logged!.map((r) => ({ ...Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, plain(v)])), request_id: r.requestId, prediction: plain(r.prediction) }));
    frame = records.length ? pl.readRecords(records, { inferSchemaLength: records.length }) : pl.DataFrame({ request_id: pl.Series("request_id", [], pl.Utf8) });
  }
  const votesColumn = `${input.labelColumn}_votes`;
  const clash = [input.labelColumn, votesColumn].filter((c) => frame.columns.includes(c));
  if (clash.length) throw badInput(`the source already has column(s) ${clash.join(", ")}; choose another label column`);
  const labels: (LabelValue | null)[] = new Array(frame.height).fill(null);
  const votes = new Int32Array(frame.height);
  for (const l of input.labels) {
    if (l.index < 0 || l.index >= frame.height) continue;
    labels[l.index] = l.label;
    votes[l.index] = l.votes;
  }
  const dtype = input.schema.kind === "numeric" ? pl.Float64 : input.schema.kind === "multiLabel" ? pl.List(pl.Utf8) : pl.Utf8;
  frame = frame.withColumns(pl.Series(input.labelColumn, labels as never[], dtype), pl.Series(votesColumn, Array.from(votes), pl.Int32));
  if (input.labelledOnly) frame = frame.filter(pl.col(input.labelColumn).isNotNull());
  writeParquet(frame, input.out);
  return { schema: schemaOf(frame), rowCount: frame.height, labelled: labels.filter((l) => l !== null).length };
}
