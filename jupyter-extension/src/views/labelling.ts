/**
 * A labelling task: what it asks (label schema, selection, source), its live progress
 * (labellingProgress subscription) and agreement between labellers, the queue to label with the
 * keyboard (labelling-queue.ts), and "Save as dataset version", which exports the labels as a
 * new version of a dataset whose parent is the task's source version.
 */
import { Dialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import type { Message } from "@lumino/messaging";
import { Widget } from "@lumino/widgets";
import type { LabellingProgress } from "@ouro/client-sdk";
import { formatNumber } from "../chart";
import { describeError, isNotFound, type OuroConnection } from "../connection";
import { badge, h, fill, table, when } from "../dom";
import { LabellingExportedVersionDocument, LabellingPanelAgreementDocument, LabellingPanelDocument, LabellingPanelExportDocument, type LabellingPanelAgreementQuery, type LabellingPanelQuery } from "../generated/graphql";
import { LabellingQueue } from "./labelling-queue";
import { OuroPanel, type OuroItem } from "./panel";

type Task = LabellingPanelQuery["labellingTask"];
type Agreement = LabellingPanelAgreementQuery["labellingTask"]["agreement"];
type Opener = (item: OuroItem) => void;

const SCHEMA_NAMES = { classes: "one class per row", multiLabel: "any set of classes per row", numeric: "a number per row" } as const;

export class LabellingView extends OuroPanel {
  private task: Task | null = null;
  private viewerId = "";
  private queue: LabellingQueue | null = null;
  private readonly queueBox = h("div", { class: "ouro-lab-queue" });
  private readonly progressBox = h("div", { class: "ouro-lab-progress", "data-ouro-progress": "" });
  private readonly agreementBox = h("div", { class: "ouro-lab-agreement", "data-ouro-agreement": "" });
  private readonly resultBox = h("div", { class: "ouro-lab-result" });
  private agreementTimer: number | undefined;

  constructor(connection: OuroConnection, taskId: string, label: string, private readonly open: Opener) {
    super(connection, { kind: "labellingTask", id: taskId, label });
    this.addClass("ouro-lab");
    // Focusable, so the shortcuts are heard only while this panel has the focus.
    this.node.tabIndex = 0;
    this.node.addEventListener("keydown", (e) => {
      if (this.gone || !this.queue) return;
      if (this.queue.handleKey(e)) {
        e.preventDefault();
        e.stopPropagation();
      }
    });
  }

  protected async load(): Promise<void> {
    const { labellingTask: task, viewer } = await this.client.request(LabellingPanelDocument, { id: this.item.id }, { signal: this.signal });
    this.task = task;
    this.viewerId = viewer.id;
    this.item.projectId = task.projectId;
    this.item.label = task.name;
    this.title.label = `Label ${task.name}`;
    this.renderHeader(task);
    fill(
      this.body,
      this.resultBox,
      h("div", { class: "ouro-lab-grid" }, this.queueBox, h("div", { class: "ouro-lab-side" }, h("h3", {}, "Progress"), this.progressBox, h("h3", {}, "Agreement"), this.agreementBox)),
    );
    await this.showQueue(task.status, task.error);
    void this.refreshAgreement();
    void this.follow();
  }

  private renderHeader(task: Task): void {
    const s = task.labelSchema;
    const schema = s.kind === "numeric" ? `numeric ${formatNumber(s.min)} … ${formatNumber(s.max)}` : `${s.kind === "classes" ? "classes" : "multi-label"}: ${(s.classes ?? []).join(", ")}`;
    const sel = task.selection as { strategy?: string; seed?: number };
    const source = task.source as { kind?: string; deploymentId?: string };
    fill(
      this.header,
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Labelling task"), h("strong", {}, task.name), badge(task.status)),
      h("div", { class: "ouro-meta", "data-ouro-schema": s.kind }, `${schema} (${SCHEMA_NAMES[s.kind]}) · ${task.labelsPerRow} label(s) per row · column "${task.labelColumn}"`),
      h(
        "div",
        { class: "ouro-meta" },
        `selection ${sel.strategy ?? "?"}${sel.seed !== undefined ? ` (seed ${sel.seed})` : ""} · ${formatNumber(task.size)} rows from `,
        source.kind === "predictionLog" ? `the prediction log of deployment ${source.deploymentId}` : `dataset version ${task.sourceVersionId ?? "(deleted)"}`,
        ` · created ${when(task.createdAt)}`,
      ),
      h(
        "div",
        { class: "ouro-actions" },
        h("button", { class: "jp-mod-styled jp-mod-accept", "data-ouro-action": "export", disabled: task.status !== "ready", onclick: () => void this.exportLabels() }, "Save as dataset version…"),
        h("button", { class: "jp-mod-styled", "data-ouro-action": "shortcuts", onclick: () => this.queue?.toggleHelp() }, "Keyboard shortcuts (?)"),
      ),
    );
  }

  /** The queue once the task is built; before that, what the build is doing. */
  private async showQueue(status: string, error: string | null): Promise<void> {
    if (status === "ready") {
      if (this.queue) return;
      this.queue = new LabellingQueue({ client: this.client, signal: this.signal, focusNode: this.node, notFound: (err) => this.fail(err) }, this.item.id, this.task!.labelSchema);
      this.node.append(this.queue.helpNode);
      fill(this.queueBox, this.queue.node);
      fill(this.queue.node, h("div", { class: "ouro-loading" }, "Loading rows…"));
      await this.queue.start();
    } else if (status === "failed") {
      fill(this.queueBox, h("div", { class: "ouro-error", "data-ouro-error": "build" }, `Building the queue failed: ${error ?? "no reason given"}`));
    } else {
      fill(this.queueBox, h("div", { class: "ouro-empty", "data-ouro-queue-state": status }, "Building the queue: the rows appear here when the build job has picked them."));
    }
  }

  /** Live progress; a status change (building → ready) reloads the task. */
  private async follow(): Promise<void> {
    const stream = this.client.labelling.progress(this.item.id, {
      signal: this.signal,
      onReconnect: (err) => this.setMessage(`Connection to Ouro lost (${err.message}); reconnecting…`, "error"),
    });
    try {
      for await (const p of stream) {
        this.setMessage("Live", "live");
        this.renderProgress(p);
        if (this.task && p.status !== this.task.status) {
          const { labellingTask } = await this.client.request(LabellingPanelDocument, { id: this.item.id }, { signal: this.signal });
          this.task = labellingTask;
          this.renderHeader(labellingTask);
          await this.showQueue(labellingTask.status, labellingTask.error);
        }
        window.clearTimeout(this.agreementTimer);
        this.agreementTimer = window.setTimeout(() => void this.refreshAgreement(), 600);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private labeller(userId: string): string {
    return userId === this.viewerId ? "you" : `user ${userId.slice(0, 8)}`;
  }

  private renderProgress(p: LabellingProgress): void {
    const pct = p.totalItems ? (100 * p.labelledItems) / p.totalItems : 0;
    const box = this.progressBox;
    box.dataset.ouroLabelled = String(p.labelledItems);
    box.dataset.ouroTotal = String(p.totalItems);
    box.dataset.ouroLabels = String(p.labels);
    box.dataset.ouroSkips = String(p.skips);
    fill(
      box,
      h("div", { class: "ouro-lab-bar", title: `${formatNumber(pct)}% labelled` }, h("div", { class: "ouro-lab-bar-fill", style: `width: ${pct.toFixed(1)}%` })),
      h("div", { class: "ouro-lab-counts", "data-ouro-counts": "" }, `${formatNumber(p.labelledItems)} / ${formatNumber(p.totalItems)} rows labelled`),
      h(
        "div",
        { class: "ouro-meta" },
        (this.task && this.task.labelsPerRow > 1 ? `${formatNumber(p.completedItems)} with all ${this.task.labelsPerRow} labels · ` : "") + `${formatNumber(p.labels)} label(s) · ${formatNumber(p.skips)} skip(s)`,
      ),
      p.labellers.length
        ? table(["labeller", "labels", "skips"], p.labellers.map((l) => [this.labeller(l.userId), formatNumber(l.labels), formatNumber(l.skips)]), "ouro-table ouro-lab-labellers")
        : h("div", { class: "ouro-empty" }, "Nobody has labelled yet."),
    );
  }

  private async refreshAgreement(): Promise<void> {
    try {
      const { labellingTask } = await this.client.request(LabellingPanelAgreementDocument, { id: this.item.id }, { signal: this.signal });
      if (!this.isDisposed && !this.gone) this.renderAgreement(labellingTask.agreement);
    } catch (err) {
      this.fail(err);
    }
  }

  private renderAgreement(a: Agreement): void {
    const figure = (v: number | null, pct = false) => (v === null ? "–" : pct ? `${formatNumber(v * 100)}%` : formatNumber(v));
    const kind = this.task?.labelSchema.kind;
    fill(
      this.agreementBox,
      a.comparedItems
        ? table(
            null,
            [
              ["rows with ≥ 2 answers", formatNumber(a.comparedItems)],
              ["labellers", formatNumber(a.labellers)],
              kind === "numeric" ? ["mean |a − b|", figure(a.meanAbsoluteDifference)] : ["percent agreement", figure(a.percentAgreement, true)],
              kind === "classes" ? ["Fleiss' κ", figure(a.fleissKappa)] : null,
              kind === "classes" ? ["Cohen's κ", figure(a.cohenKappa)] : null,
            ].filter((r): r is string[] => r !== null),
            "ouro-table ouro-lab-figures",
          )
        : h("div", { class: "ouro-empty" }, this.task && this.task.labelsPerRow < 2 ? "One label per row: agreement needs rows labelled by two or more people." : "No row has two answers yet."),
      a.classCounts.length ? table(["class", "answers", "consensus rows"], a.classCounts.map((c) => [c.class, formatNumber(c.labels), formatNumber(c.consensus)]), "ouro-table ouro-lab-classes") : null,
    );
  }

  /** After confirmation: the export job, then a link to the new version. */
  private async exportLabels(): Promise<void> {
    const task = this.task;
    if (!task) return;
    const form = new ExportForm(`${task.name}-labels`, task.labelColumn);
    const answer = await showDialog({
      title: `Save the labels of ${task.name} as a dataset version?`,
      body: form,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Save version" })],
      focusNodeSelector: "input[name='dataset']",
    });
    this.node.focus({ preventScroll: true });
    if (!answer.button.accept || !answer.value) return;
    const dataset = answer.value.dataset || `${task.name}-labels`;
    const labelledOnly = answer.value.labelledOnly;
    try {
      this.setMessage("Saving the labels…");
      const { exportLabels: job } = await this.client.request(LabellingPanelExportDocument, { taskId: task.id, dataset, labelledOnly });
      const done = await this.client.jobs.wait(job.id, { signal: this.signal, onProgress: (j) => this.setMessage(`Saving the labels… ${Math.round(j.progress * 100)}%`) });
      const result = (done.result ?? {}) as { versionId?: string; rows?: number; labelled?: number; created?: boolean };
      if (!result.versionId) throw new Error(`The export job ${job.id} finished without a version.`);
      const { datasetVersion: v } = await this.client.request(LabellingExportedVersionDocument, { id: result.versionId }, { signal: this.signal });
      this.setMessage("");
      fill(
        this.resultBox,
        h(
          "div",
          { class: "ouro-lab-saved", "data-ouro-export": v.id, "data-ouro-dataset": v.datasetId },
          `Saved as ${dataset} v${v.version}: ${formatNumber(result.rows ?? v.rowCount)} rows, ${formatNumber(result.labelled ?? 0)} with a label${result.created === false ? " (the same content as the last version, so no new version was needed)" : ""}. `,
          h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "open-export", onclick: () => this.open({ kind: "dataset", id: v.datasetId, label: dataset, projectId: task.projectId }) }, "Open in the dataset view"),
        ),
      );
    } catch (err) {
      if (this.signal.aborted) return;
      if (isNotFound(err)) return this.fail(err);
      this.setMessage(`The labels were not saved: ${describeError(err, "This labelling task")}`, "error");
      await showErrorMessage("Labels not saved", describeError(err, "This labelling task"));
    }
  }

  protected override fail(err: unknown): void {
    if (isNotFound(err) && !this.isDisposed && !this.signal.aborted) {
      this.gone = true;
      this.aborter.abort();
      this.queue?.toggleHelp(false);
      fill(this.body, h("div", { class: "ouro-gone", "data-ouro-error": "not-found" }, describeError(err, `The labelling task ${this.item.label}`)));
      this.header.querySelector(".ouro-actions")?.remove();
      this.setMessage("");
      return;
    }
    super.fail(err);
  }

  protected override onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    if (!this.node.contains(document.activeElement)) this.node.focus({ preventScroll: true });
  }

  override dispose(): void {
    window.clearTimeout(this.agreementTimer);
    super.dispose();
  }
}

class ExportForm extends Widget {
  constructor(dataset: string, column: string) {
    super();
    this.addClass("ouro-form");
    this.node.append(
      h("label", {}, "Dataset (created if it does not exist)", h("input", { name: "dataset", type: "text", value: dataset })),
      h("label", { class: "ouro-check" }, h("input", { name: "labelledOnly", type: "checkbox" }), "Only the rows that got a label"),
      h(
        "p",
        { class: "ouro-hint" },
        `Writes the source rows with two more columns, "${column}" (the consensus of the answers; empty for ties and unlabelled rows) and "${column}_votes", as a new version of this dataset. The task's source version becomes its parent in the lineage.`,
      ),
    );
  }

  getValue(): { dataset: string; labelledOnly: boolean } {
    const name = (this.node.querySelector("input[name='dataset']") as HTMLInputElement).value.trim();
    return { dataset: name, labelledOnly: (this.node.querySelector("input[name='labelledOnly']") as HTMLInputElement).checked };
  }
}
