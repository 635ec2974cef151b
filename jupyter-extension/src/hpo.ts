/**
 * Launching a hyperparameter search from a dataset version: a small form (target, model,
 * a search-space preset, trials, the metric to optimise), then a confirmation that says how
 * many models will be trained, then `startHyperparameterSearch`. Each trial is a child run of
 * the search's run, so trials appear in the tree as they start.
 */
import { Dialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import { fittedRecipes, type TrainingSource } from "./actions";
import { describeError, type OuroConnection } from "./connection";
import { h } from "./dom";
import { RunByNameDocument, StartHyperparameterSearchDocument, type DimensionInput, type ModelTask } from "./generated/graphql";

interface Preset {
  label: string;
  /** Model kinds whose settings the space names. */
  kinds: string[];
  space: DimensionInput[];
}

/** Spaces that make sense for small tabular models; each names settings of the model spec. */
export const SEARCH_PRESETS: Record<string, Preset> = {
  learningRate: { label: "Learning rate (1e-4 … 0.1, log scale)", kinds: ["mlp", "logistic", "linear"], space: [{ name: "learningRate", min: 0.0001, max: 0.1, log: true }] },
  learningRateLayers: {
    label: "Learning rate × hidden layers",
    kinds: ["mlp"],
    space: [
      { name: "learningRate", min: 0.0005, max: 0.05, log: true },
      { name: "layers", values: [[16], [32, 16], [64, 32]] },
    ],
  },
  dropoutBatch: {
    label: "Dropout × batch size",
    kinds: ["mlp"],
    space: [
      { name: "dropout", min: 0, max: 0.5 },
      { name: "batchSize", values: [16, 32, 64] },
    ],
  },
  regularisation: {
    label: "Learning rate × L2 penalty",
    kinds: ["mlp", "logistic", "linear"],
    space: [
      { name: "learningRate", min: 0.001, max: 0.1, log: true },
      { name: "l2", min: 0, max: 0.01 },
    ],
  },
};

/** Per-epoch metrics the trainer logs, and whether bigger is better. */
const METRICS: { name: string; maximize: boolean; label: string }[] = [
  { name: "val_loss", maximize: false, label: "val_loss (lower is better)" },
  { name: "val_accuracy", maximize: true, label: "val_accuracy (classification; higher is better)" },
  { name: "val_mae", maximize: false, label: "val_mae (regression; lower is better)" },
];

export interface SearchRequest {
  target: string;
  task: ModelTask;
  kind: string;
  epochs: number;
  preset: string;
  trials: number;
  maxConcurrent: number;
  metric: string;
  recipeId: string | null;
  runName: string;
}

class SearchForm extends Widget {
  constructor(columns: { name: string; type: string }[], recipes: { id: string; name: string }[]) {
    super();
    this.addClass("ouro-form");
    const guessTarget = columns.find((c) => /species|label|target|class|y$/i.test(c.name)) ?? columns[columns.length - 1];
    const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
    // Numbers have no min/max attributes (the dialog would only grey out "Next"): they are
    // clamped to their range, and the confirmation shows what will run.
    this.node.append(
      h("label", {}, "Target column", h("select", { name: "target" }, ...columns.map((c) => h("option", { value: c.name, selected: c.name === guessTarget?.name }, `${c.name} (${c.type})`)))),
      h("label", {}, "Task", h("select", { name: "task" }, ...["multiclass", "binary", "regression"].map((t) => h("option", { value: t }, t)))),
      h("label", {}, "Model", h("select", { name: "kind" }, ...["mlp", "logistic", "linear"].map((t) => h("option", { value: t }, t)))),
      h(
        "label",
        {},
        "Recipe (fitted; encodes and fills the inputs)",
        h("select", { name: "recipe" }, h("option", { value: "" }, "(none: every other column, as it is)"), ...recipes.map((r, i) => h("option", { value: r.id, selected: i === 0 }, r.name))),
      ),
      h("label", {}, "Search space", h("select", { name: "preset" }, ...Object.entries(SEARCH_PRESETS).map(([key, p]) => h("option", { value: key }, `${p.label}${p.kinds.length === 1 ? " (MLP)" : ""}`)))),
      h("label", {}, "Trials (random draws from the space)", h("input", { name: "trials", type: "number", value: 6 })),
      h("label", {}, "Epochs per trial", h("input", { name: "epochs", type: "number", value: 20 })),
      h("label", {}, "Trials at once", h("input", { name: "maxConcurrent", type: "number", value: 2 })),
      h("label", {}, "Optimise", h("select", { name: "metric" }, ...METRICS.map((m) => h("option", { value: m.name }, m.label)))),
      h("label", {}, "Search run name", h("input", { name: "runName", type: "text", value: `search-${stamp}` })),
      h("p", { class: "ouro-hint" }, "Each trial trains one model as a child run of the search run; trials worse than the median at the same epoch stop early. The job's result names the best trial."),
    );
  }

  private field(name: string): HTMLInputElement | HTMLSelectElement {
    return this.node.querySelector(`[name="${name}"]`) as HTMLInputElement | HTMLSelectElement;
  }

  private int(name: string, lo: number, hi: number, fallback: number): number {
    return Math.max(lo, Math.min(hi, Math.round(Number(this.field(name).value) || fallback)));
  }

  getValue(): SearchRequest {
    return {
      target: this.field("target").value,
      task: this.field("task").value as ModelTask,
      kind: this.field("kind").value,
      preset: this.field("preset").value,
      trials: this.int("trials", 1, 50, 6),
      epochs: this.int("epochs", 1, 1000, 20),
      maxConcurrent: this.int("maxConcurrent", 1, 16, 2),
      metric: this.field("metric").value,
      recipeId: this.field("recipe").value || null,
      runName: this.field("runName").value.trim() || `search-${Date.now()}`,
    };
  }
}

/** The space as a sentence for the confirmation. */
function describeSpace(space: DimensionInput[]): string {
  return space
    .map((d) => (d.values ? `${d.name} ∈ {${d.values.map((v) => JSON.stringify(v)).join(", ")}}` : `${d.name} ∈ [${d.min}, ${d.max}]${d.log ? " (log)" : ""}`))
    .join(", ");
}

/** Form → confirmation → startHyperparameterSearch. Returns the job and the search's run, or null when cancelled or refused. */
export async function launchSearch(connection: OuroConnection, dataset: TrainingSource): Promise<{ jobId: string; runId: string | null; runName: string } | null> {
  const recipes = await fittedRecipes(connection, dataset.projectId, "Cannot start a search");
  if (!recipes) return null;
  const form = await showDialog({
    title: `Search hyperparameters on ${dataset.label}`,
    body: new SearchForm(dataset.columns, recipes),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Next" })],
  });
  if (!form.button.accept || !form.value) return null;
  const req = form.value as SearchRequest;
  const preset = SEARCH_PRESETS[req.preset];
  if (!preset) return null;
  if (!preset.kinds.includes(req.kind)) {
    await showErrorMessage("Search not started", `"${preset.label}" tunes settings only the ${preset.kinds.join("/")} model has; pick another space or model.`);
    return null;
  }
  const metric = METRICS.find((m) => m.name === req.metric) ?? METRICS[0];
  const confirm = await showDialog({
    title: "Start hyperparameter search?",
    body: `Train ${req.trials} ${req.kind} model(s) of ${req.epochs} epochs on ${dataset.label}, predicting ${req.target}, ${req.maxConcurrent} at a time, over ${describeSpace(preset.space)}; keep the best by ${metric.name} (${metric.maximize ? "highest" : "lowest"}). Runs go to experiment "search" under "${req.runName}".`,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Start search" })],
  });
  if (!confirm.button.accept) return null;
  try {
    const { startHyperparameterSearch: job } = await connection.client.request(StartHyperparameterSearchDocument, {
      input: {
        projectId: dataset.projectId,
        datasetVersionId: dataset.versionId,
        target: req.target,
        task: req.task,
        experiment: "search",
        runName: req.runName,
        recipeId: req.recipeId,
        model: { kind: req.kind, epochs: req.epochs },
      },
      search: { space: preset.space, strategy: "random", trials: req.trials, maxConcurrent: req.maxConcurrent, metric: metric.name, maximize: metric.maximize },
    });
    const { runs } = await connection.client.request(RunByNameDocument, { projectId: dataset.projectId, experiment: "search" });
    const run = runs.nodes.find((r) => r.name === req.runName) ?? null;
    return { jobId: job.id, runId: run?.id ?? null, runName: req.runName };
  } catch (err) {
    await showErrorMessage("Search not started", describeError(err));
    return null;
  }
}
