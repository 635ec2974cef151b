/**
 * "New labelling task…" on a dataset: a small form (name, label kind and classes or range,
 * selection, size, labels per row), confirmed in a dialog. The server checks everything before
 * it writes anything, so a refusal (one class, a bad size, an unknown model) is shown as it
 * comes and nothing is created.
 */
import { Dialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import { describeError, type OuroConnection } from "../connection";
import { h } from "../dom";
import { LabellingPanelCreateDocument, type CreateLabellingTaskInput, type LabelKind, type LabellingSelectionStrategy } from "../generated/graphql";

class NewTaskForm extends Widget {
  constructor(dataset: string, rows: number) {
    super();
    this.addClass("ouro-form");
    const stamp = new Date().toISOString().slice(0, 10);
    this.node.append(
      h("label", {}, "Task name", h("input", { name: "name", type: "text", value: `${dataset}-labels-${stamp}` })),
      h("label", {}, "Label kind", h("select", { name: "kind" }, h("option", { value: "classes" }, "classes (one per row)"), h("option", { value: "multiLabel" }, "multi-label (a set per row)"), h("option", { value: "numeric" }, "numeric"))),
      h("label", {}, "Classes (comma-separated; keys 1–9 pick the first nine)", h("input", { name: "classes", type: "text", placeholder: "e.g. cat, dog, other" })),
      h("label", {}, "Range for numeric labels (min, max)", h("input", { name: "range", type: "text", placeholder: "e.g. 0, 10" })),
      h(
        "label",
        {},
        "Rows to label",
        h("select", { name: "strategy" }, h("option", { value: "random" }, "random"), h("option", { value: "leastConfident" }, "least confident (a model)"), h("option", { value: "disagreement" }, "disagreement (an earlier task)")),
      ),
      h("label", {}, "Model version id (least confident)", h("input", { name: "model", type: "text" })),
      h("label", {}, "Earlier task id (disagreement)", h("input", { name: "fromTask", type: "text" })),
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
  const answer = await showDialog({
    title: `New labelling task on ${dataset.name} v${dataset.version}`,
    body: new NewTaskForm(dataset.name, dataset.rows),
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
