/**
 * Actions that change things in Ouro. Each asks for confirmation first, in a JupyterLab dialog
 * that says exactly what will happen.
 */
import { Dialog, InputDialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import { describeError, type OuroConnection } from "./connection";
import { h } from "./dom";
import { AcknowledgeAlertDocument, DeployModelDocument, ProjectRecipesDocument, RunByNameDocument, RunPipelineDocument, SetModelAliasDocument, TrainModelDocument, type ModelTask } from "./generated/graphql";

export interface TrainRequest {
  target: string;
  task: ModelTask;
  kind: "mlp" | "logistic" | "linear";
  epochs: number;
  runName: string;
  features: string[];
  recipeId: string | null;
}

/** Polars types a model can take as is; others (strings, dates) need a recipe to encode them. */
const NUMERIC = /^(Float|Int|UInt|Bool|Decimal)/;

class TrainForm extends Widget {
  constructor(columns: { name: string; type: string }[], recipes: { id: string; name: string }[]) {
    super();
    this.addClass("ouro-form");
    const guessTarget = columns.find((c) => /species|label|target|class|y$/i.test(c.name)) ?? columns[columns.length - 1];
    const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
    this.node.append(
      h("label", {}, "Target column", h("select", { name: "target" }, ...columns.map((c) => h("option", { value: c.name, selected: c.name === guessTarget?.name }, `${c.name} (${c.type})`)))),
      h("label", {}, "Task", h("select", { name: "task" }, ...["multiclass", "binary", "regression"].map((t) => h("option", { value: t }, t)))),
      h("label", {}, "Model", h("select", { name: "kind" }, ...["mlp", "logistic", "linear"].map((t) => h("option", { value: t }, t)))),
      h("label", {}, "Epochs", h("input", { name: "epochs", type: "number", min: 1, max: 1000, value: 30 })),
      h(
        "label",
        {},
        "Recipe (fitted; encodes and fills the inputs)",
        h("select", { name: "recipe" }, h("option", { value: "" }, "(none: numeric columns as they are)"), ...recipes.map((r) => h("option", { value: r.id }, r.name))),
      ),
      h("label", {}, "Run name", h("input", { name: "runName", type: "text", value: `train-${stamp}` })),
      h(
        "fieldset",
        { class: "ouro-features" },
        h("legend", {}, "Input columns"),
        ...columns.map((c) =>
          h("label", { class: "ouro-check" }, h("input", { type: "checkbox", name: "feature", value: c.name, checked: NUMERIC.test(c.type) && c.name !== guessTarget?.name }), `${c.name} (${c.type})`),
        ),
      ),
      h("p", { class: "ouro-hint" }, "Text and date columns need a recipe to encode them, so they start unticked. The job runs on an Ouro worker; its metrics stream into the run's chart."),
    );
  }

  private field(name: string): HTMLInputElement | HTMLSelectElement {
    return this.node.querySelector(`[name="${name}"]`) as HTMLInputElement | HTMLSelectElement;
  }

  getValue(): TrainRequest {
    return {
      target: this.field("target").value,
      task: this.field("task").value as ModelTask,
      kind: this.field("kind").value as TrainRequest["kind"],
      epochs: Math.max(1, Math.min(1000, Math.round(Number(this.field("epochs").value) || 30))),
      runName: this.field("runName").value.trim() || `train-${Date.now()}`,
      recipeId: this.field("recipe").value || null,
      // With a recipe the inputs are its output columns, which only the server knows.
      features: this.field("recipe").value ? [] : [...this.node.querySelectorAll<HTMLInputElement>('input[name="feature"]:checked')].map((i) => i.value).filter((f) => f !== this.field("target").value),
    };
  }
}

/** The dataset version a training or search form starts from. */
export interface TrainingSource {
  projectId: string;
  versionId: string;
  label: string;
  columns: { name: string; type: string }[];
}

/** The project's fitted recipes (a form offers them), or null after showing why they could not be read. */
export async function fittedRecipes(connection: OuroConnection, projectId: string, failureTitle: string): Promise<{ id: string; name: string }[] | null> {
  try {
    const { recipes: page } = await connection.client.request(ProjectRecipesDocument, { projectId });
    return page.nodes.filter((r) => r.fittedOnVersionId);
  } catch (err) {
    await showErrorMessage(failureTitle, describeError(err));
    return null;
  }
}

/** Asks for the training settings, starts the job and finds its run. Null when cancelled. */
export async function launchTraining(connection: OuroConnection, dataset: TrainingSource): Promise<{ jobId: string; runId: string | null; runName: string } | null> {
  const recipes = await fittedRecipes(connection, dataset.projectId, "Cannot start training");
  if (!recipes) return null;
  const result = await showDialog({
    title: `Train a model on ${dataset.label}`,
    body: new TrainForm(dataset.columns, recipes),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Start training" })],
  });
  if (!result.button.accept || !result.value) return null;
  const req = result.value as TrainRequest;
  if (!req.recipeId && !req.features.length) {
    await showErrorMessage("Training was not started", "Tick at least one input column.");
    return null;
  }
  try {
    const { trainModel } = await connection.client.request(TrainModelDocument, {
      input: {
        projectId: dataset.projectId,
        datasetVersionId: dataset.versionId,
        target: req.target,
        task: req.task,
        experiment: "training",
        runName: req.runName,
        features: req.recipeId ? undefined : req.features,
        recipeId: req.recipeId,
        model: { kind: req.kind, epochs: req.epochs },
      },
    });
    // The run is created with the job, under the name we chose.
    const { runs } = await connection.client.request(RunByNameDocument, { projectId: dataset.projectId, experiment: "training" });
    const run = runs.nodes.find((r) => r.name === req.runName) ?? null;
    return { jobId: trainModel.id, runId: run?.id ?? null, runName: req.runName };
  } catch (err) {
    await showErrorMessage("Training was not started", describeError(err));
    return null;
  }
}

/** Cancels a job after confirmation; says so when it had already finished. */
export async function cancelJob(connection: OuroConnection, job: { id: string; kind: string }): Promise<boolean> {
  const result = await showDialog({
    title: "Cancel job?",
    body: `Stop ${job.kind} job ${job.id}? Work it has done so far is discarded.`,
    buttons: [Dialog.cancelButton({ label: "Keep running" }), Dialog.warnButton({ label: "Cancel job" })],
  });
  if (!result.button.accept) return false;
  try {
    const outcome = await connection.client.jobs.cancel(job.id);
    if (!outcome.cancelled) await showErrorMessage("Job not cancelled", outcome.message);
    return outcome.cancelled;
  } catch (err) {
    await showErrorMessage("Job not cancelled", describeError(err, `Job ${job.id}`));
    return false;
  }
}

/** Points an alias (staging, production, …) at a model version, after confirmation. */
export async function setAlias(connection: OuroConnection, model: string, version: { id: string; version: number }): Promise<boolean> {
  const answer = await InputDialog.getItem({
    title: `Set an alias on ${model} v${version.version}`,
    items: ["staging", "production", "champion", "candidate"],
    editable: true,
    okLabel: "Next",
  });
  const alias = answer.button.accept ? answer.value?.trim() : "";
  if (!alias) return false;
  const confirm = await showDialog({
    title: "Move alias?",
    body: `Point "${alias}" of ${model} at version ${version.version}? Whatever uses "${model}@${alias}" gets this version from now on.`,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: `Set ${alias}` })],
  });
  if (!confirm.button.accept) return false;
  try {
    await connection.client.request(SetModelAliasDocument, { alias, versionId: version.id });
    return true;
  } catch (err) {
    await showErrorMessage("Alias not set", describeError(err));
    return false;
  }
}

/** Deploys one model version behind a new (or the named) endpoint, after confirmation. */
export async function deployVersion(
  connection: OuroConnection,
  model: { name: string; projectId: string },
  version: { id: string; version: number },
): Promise<{ id: string; name: string } | null> {
  const answer = await InputDialog.getText({
    title: `Deploy ${model.name} v${version.version}`,
    label: "Deployment name (lowercase letters, digits, - and _)",
    text: model.name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-"),
    okLabel: "Next",
  });
  const name = answer.button.accept ? answer.value?.trim() : "";
  if (!name) return null;
  const confirm = await showDialog({
    title: "Deploy?",
    body: `Serve ${model.name} v${version.version} as "${name}"? If "${name}" exists, all of its traffic moves to this version.`,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Deploy" })],
  });
  if (!confirm.button.accept) return null;
  try {
    const { deployModel } = await connection.client.request(DeployModelDocument, { input: { projectId: model.projectId, name, modelVersionId: version.id } });
    return deployModel;
  } catch (err) {
    await showErrorMessage("Not deployed", describeError(err));
    return null;
  }
}

export async function acknowledgeAlert(connection: OuroConnection, alert: { id: string; message: string }): Promise<boolean> {
  const confirm = await showDialog({
    title: "Acknowledge alert?",
    body: `${alert.message}\n\nAcknowledging says someone is on it; the alert stays until its condition clears.`,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Acknowledge" })],
  });
  if (!confirm.button.accept) return false;
  try {
    await connection.client.request(AcknowledgeAlertDocument, { id: alert.id });
    return true;
  } catch (err) {
    await showErrorMessage("Alert not acknowledged", describeError(err, "The alert"));
    return false;
  }
}

export async function runPipeline(connection: OuroConnection, pipeline: { id: string; name: string }): Promise<boolean> {
  const confirm = await showDialog({
    title: "Run pipeline?",
    body: `Start a run of ${pipeline.name} now, with its default parameters?`,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Run" })],
  });
  if (!confirm.button.accept) return false;
  try {
    await connection.client.request(RunPipelineDocument, { id: pipeline.id });
    return true;
  } catch (err) {
    await showErrorMessage("Pipeline not started", describeError(err, "The pipeline"));
    return false;
  }
}
