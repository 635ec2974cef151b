import { cancelJob } from "../actions";
import type { OuroConnection } from "../connection";
import { badge, h, when, fill } from "../dom";
import { OuroPanel } from "./panel";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** A job: live status and progress (jobUpdated), its last log lines, and Cancel. */
export class JobView extends OuroPanel {
  constructor(connection: OuroConnection, jobId: string, label: string) {
    super(connection, { kind: "job", id: jobId, label });
  }

  protected async load(): Promise<void> {
    await this.refresh();
    const stream = this.client.jobs.watch(this.item.id, {
      signal: this.signal,
      onReconnect: (err) => this.setMessage(`Connection to Ouro lost (${err.message}); reconnecting…`, "error"),
    });
    try {
      for await (const job of stream) {
        this.setMessage(TERMINAL.has(job.status) ? "" : "Live", "live");
        await this.refresh();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async refresh(): Promise<void> {
    const job = await this.client.jobs.get(this.item.id, { logs: 30 });
    if (this.isDisposed) return;
    this.item.projectId = job.projectId;
    this.title.label = `Job ${job.kind}`;
    fill(this.header, 
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Job"), h("strong", {}, job.kind), badge(job.status)),
      h("div", { class: "ouro-meta" }, `${Math.round(job.progress * 100)}% · attempt ${job.attempt}/${job.maxAttempts} · created ${when(job.createdAt)}`),
      TERMINAL.has(job.status)
        ? null
        : h("div", { class: "ouro-actions" }, h("button", { class: "jp-mod-styled jp-mod-warn", "data-ouro-action": "cancel", onclick: () => void cancelJob(this.connection, job) }, "Cancel job…")),
    );
    fill(this.body, 
      job.error ? h("div", { class: "ouro-error" }, job.error) : null,
      job.result ? h("pre", { class: "ouro-json" }, JSON.stringify(job.result, null, 2)) : null,
      h("h3", {}, "Log"),
      h("pre", { class: "ouro-log" }, job.logs.map((l) => `${when(l.at)} ${l.level} ${l.message}`).join("\n") || "(no log lines)"),
    );
  }
}
