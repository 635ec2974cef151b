import { Widget } from "@lumino/widgets";
import { describeError, isNotFound, type OuroConnection } from "../connection";
import { h, fill } from "../dom";

/** What "Insert snippet" needs to know about the thing a panel shows. */
export interface OuroItem {
  kind: "project" | "dataset" | "datasetVersion" | "featureSet" | "experiment" | "run" | "model" | "modelVersion" | "job" | "deployment" | "monitor" | "alert" | "pipeline" | "labellingTask";
  id: string;
  label: string;
  projectId?: string;
}

/**
 * Base of every Ouro view: a header, a message line and a body. Errors never leave a blank
 * panel: a missing object replaces the body with an explanation, anything else shows in the
 * message line, and streams stop when the panel closes.
 */
export abstract class OuroPanel extends Widget {
  readonly header = h("div", { class: "ouro-panel-header" });
  readonly message = h("div", { class: "ouro-message", role: "status" });
  readonly body = h("div", { class: "ouro-panel-body" });
  protected readonly aborter = new AbortController();
  protected gone = false;

  constructor(readonly connection: OuroConnection, readonly item: OuroItem) {
    super();
    this.addClass("ouro-panel");
    this.id = `ouro-${item.kind}-${item.id}`;
    this.title.label = item.label;
    this.title.closable = true;
    this.node.dataset.ouroKind = item.kind;
    this.node.dataset.ouroId = item.id;
    this.node.append(this.header, this.message, this.body);
    this.body.append(h("div", { class: "ouro-loading" }, "Loading…"));
    // After the subclass constructor has run (its fields exist by then).
    queueMicrotask(() => void this.load().catch((err) => this.fail(err)));
  }

  protected abstract load(): Promise<void>;

  protected get client() {
    return this.connection.client;
  }

  protected get signal(): AbortSignal {
    return this.aborter.signal;
  }

  /** A failure while loading or streaming: a deleted object replaces the body, the rest is a message. */
  protected fail(err: unknown): void {
    if (this.isDisposed || this.signal.aborted) return;
    const what = this.item.kind === "run" ? `Run ${this.item.label}` : `This ${this.item.kind}`;
    if (isNotFound(err)) {
      this.gone = true;
      this.aborter.abort();
      fill(this.body, h("div", { class: "ouro-gone", "data-ouro-error": "not-found" }, describeError(err, what)));
      this.setMessage("");
      return;
    }
    if (this.body.querySelector(".ouro-loading")) {
      fill(this.body, h("div", { class: "ouro-error", "data-ouro-error": "load" }, describeError(err, what)));
    } else {
      this.setMessage(describeError(err, what), "error");
    }
  }

  protected setMessage(text: string, level: "info" | "error" | "live" = "info"): void {
    this.message.textContent = text;
    this.message.dataset.level = level;
  }

  override dispose(): void {
    this.aborter.abort();
    super.dispose();
  }
}
