/**
 * "New labelling task…" on a dataset: a small form (name, label kind and classes or range,
 * selection, size, labels per row), confirmed in a dialog. The model (least confident) and the
 * earlier task (disagreement) are picked from what the project holds, so nobody types an id.
 * The server checks everything before it writes anything, so a refusal (one class, a bad size,
 * a regression model) is shown as it comes and nothing is created.
 */
import { Dialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import { describeError, type OuroConnection } from "../connection";
import { h } from "../dom";
import {
  LabellingCreateChoicesDocument,
  LabellingPanelCreateDocument,
  type CreateLabellingTaskInput,
  type LabelKind,
  type LabellingCreateChoicesQuery,
  type LabellingSelectionStrategy,
} from "../generated/graphql";

/** One entry of a picker; a disabled one is shown with the reason the server would refuse it. */
interface Choice {
  value: string;
  label: string;
  disabled?: boolean;
}

/** What the pickers offer, or why they could not be filled. */
interface Choices {
  versions: Choice[];
  tasks: Choice[];
  error?: string;
}

/** Every version of every model, newest first, as "name vN"; those that cannot score confidence are shown but disabled. */
function versionChoices(models: LabellingCreateChoicesQuery["models"]["nodes"]): Choice[] {
  return models.flatMap((m) =>
    m.versions.map((v) => {
      const label = `${m.name} v${v.version}`;
      if (v.signature.task === "regression") return { value: v.id, label: `${label} (regression: no confidence)`, disabled: true };
      if (!v.artifactId) return { value: v.id, label: `${label} (no stored model)`, disabled: true };
      return { value: v.id, label };
    }),
  );
}

/** The earlier tasks over the same dataset version: the server compares only those. */
function taskChoices(tasks: LabellingCreateChoicesQuery["labellingTasks"]["nodes"], versionId: string): Choice[] {
  return tasks.filter((t) => t.sourceVersionId === versionId).map((t) => ({ value: t.id, label: t.status === "ready" ? t.name : `${t.name} (${t.status})` }));
}

async function loadChoices(connection: OuroConnection, projectId: string, versionId: string): Promise<Choices> {
  try {
    const { models, labellingTasks } = await connection.client.request(LabellingCreateChoicesDocument, { projectId });
    return { versions: versionChoices(models.nodes), tasks: taskChoices(labellingTasks.nodes, versionId) };
  } catch (err) {
    return { versions: [], tasks: [], error: describeError(err, "This project") };
  }
}

/** A select of the choices; with none, a disabled one that says so. */
function picker(name: string, choices: Choice[], empty: string): HTMLSelectElement {
  if (!choices.length) return h("select", { name, disabled: true, "data-ouro-empty": "true" }, h("option", { value: "" }, empty));
  return h("select", { name }, ...choices.map((c) => h("option", { value: c.value, disabled: c.disabled }, c.label)));
}

class NewTaskForm extends Widget {
  constructor(dataset: string, rows: number, choices: Choices) {
    super();
    this.addClass("ouro-form");
    const stamp = new Date().toISOString().slice(0, 10);
    const unavailable = choices.error && `could not load: ${choices.error}`;
    const strategy = h("select", { name: "strategy" }, h("option", { value: "random" }, "random"), h("option", { value: "leastConfident" }, "least confident (a model)"), h("option", { value: "disagreement" }, "disagreement (an earlier task)"));
    // Shown only with their strategy, so a hidden pick is never sent.
    const model = h("label", { "data-ouro-for": "leastConfident", hidden: true }, "Model version (scores the rows)", picker("model", choices.versions, unavailable || "no registered models in this project"));
    const fromTask = h("label", { "data-ouro-for": "disagreement", hidden: true }, "Earlier task (its labellers disagreed)", picker("fromTask", choices.tasks, unavailable || "no earlier labelling task on this dataset version"));
    strategy.addEventListener("change", () => {
      model.hidden = strategy.value !== "leastConfident";
      fromTask.hidden = strategy.value !== "disagreement";
    });
    this.node.append(
      h("label", {}, "Task name", h("input", { name: "name", type: "text", value: `${dataset}-labels-${stamp}` })),
      h("label", {}, "Label kind", h("select", { name: "kind" }, h("option", { value: "classes" }, "classes (one per row)"), h("option", { value: "multiLabel" }, "multi-label (a set per row)"), h("option", { value: "numeric" }, "numeric"))),
      h("label", {}, "Classes (comma-separated; keys 1–9 pick the first nine)", h("input", { name: "classes", type: "text", placeholder: "e.g. cat, dog, other" })),
      h("label", {}, "Range for numeric labels (min, max)", h("input", { name: "range", type: "text", placeholder: "e.g. 0, 10" })),
      h("label", {}, "Rows to label", strategy),
      model,
      fromTask,
      h("label", {}, `Queue size (of ${rows} rows)`, h("input", { name: "size", type: "number", min: 1, max: 10000, value: Math.min(100, rows || 100) })),
      h("label", {}, "Labels per row", h("input", { name: "labelsPerRow", type: "number", min: 1, max: 20, value: 1 })),
      h("p", { class: "ouro-hint" }, "A job picks the rows; the task opens and its queue appears when the job is done."),
    );
  }

  private field(name: string): string {
    return (this.node.querySelector(`[name="${name}"]`) as HTMLInputElement | HTMLSelectElement).value.trim();
  }

  getValue(): Omit<CreateLabellingTaskInput, "projectId" | "source"> {
    const kind = this.field("kind") as LabelKind;
    const list = (v: string) => v.split(",").map((c) => c.trim()).filter(Boolean);
    const [min, max] = list(this.field("range")).map(Number);
    const strategy = this.field("strategy") as LabellingSelectionStrategy;
    return {
      name: this.field("name"),
      labelSchema: kind === "numeric" ? { kind, min: min ?? null, max: max ?? null } : { kind, classes: list(this.field("classes")) },
      selection: { strategy, modelVersionId: strategy === "leastConfident" ? this.field("model") || null : null, fromTaskId: strategy === "disagreement" ? this.field("fromTask") || null : null },
      size: Math.round(Number(this.field("size"))),
      labelsPerRow: Math.round(Number(this.field("labelsPerRow"))) || 1,
    };
  }
}

/** Asks for the settings and creates the task over a dataset version. Null when cancelled or refused. */
export async function newLabellingTask(
  connection: OuroConnection,
  dataset: { projectId: string; name: string; versionId: string; version: number; rows: number },
): Promise<{ id: string; name: string } | null> {
  const choices = await loadChoices(connection, dataset.projectId, dataset.versionId);
  const answer = await showDialog({
    title: `New labelling task on ${dataset.name} v${dataset.version}`,
    body: new NewTaskForm(dataset.name, dataset.rows, choices),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Create task" })],
    focusNodeSelector: "input[name='classes']",
  });
  if (!answer.button.accept || !answer.value) return null;
  try {
    const { createLabellingTask } = await connection.client.request(LabellingPanelCreateDocument, {
      input: { ...answer.value, projectId: dataset.projectId, source: { datasetVersionId: dataset.versionId } },
    });
    return createLabellingTask;
  } catch (err) {
    await showErrorMessage("Labelling task not created", describeError(err, `Dataset ${dataset.name}`));
    return null;
  }
}
