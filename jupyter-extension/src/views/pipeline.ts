import type { PipelineRun } from "@ouro/client-sdk";
import { runPipeline } from "../actions";
import type { OuroConnection } from "../connection";
import { badge, fill, h, table, when } from "../dom";
import { PipelinePanelDocument, type PipelinePanelQuery } from "../generated/graphql";
import { OuroPanel, type OuroItem } from "./panel";

type Pipeline = PipelinePanelQuery["pipeline"];
type RunRow = Pick<PipelineRun, "id" | "status" | "error" | "force" | "trigger" | "createdAt" | "startedAt" | "finishedAt"> & {
  steps: Pick<PipelineRun["steps"][number], "stepId" | "kind" | "status" | "cacheHit" | "jobId" | "error">[];
};
interface Step {
  id: string;
  kind: string;
  params?: Record<string, unknown>;
  after?: string[];
}

const SHOWN_RUNS = 15;

/** What a step waits for: its `after` list and every step its params reference as ${step.output}. */
function dependencies(step: Step, ids: Set<string>): string[] {
  const refs = [...JSON.stringify(step.params ?? {}).matchAll(/\$\{([A-Za-z0-9_-]+)\./g)].map((m) => m[1]!);
  return [...new Set([...(step.after ?? []), ...refs])].filter((d) => ids.has(d) && d !== step.id);
}

/** Steps in layers: a step sits one layer below the deepest step it depends on. */
function layers(steps: Step[]): { layers: Step[][]; deps: Map<string, string[]> } {
  const ids = new Set(steps.map((s) => s.id));
  const deps = new Map(steps.map((s) => [s.id, dependencies(s, ids)]));
  const depth = new Map<string, number>();
  const visit = (id: string, seen: Set<string>): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0; // the server refuses cycles; this only guards the page
    seen.add(id);
    const d = Math.max(-1, ...(deps.get(id) ?? []).map((p) => visit(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  for (const s of steps) visit(s.id, new Set());
  const out: Step[][] = [];
  for (const s of steps) (out[depth.get(s.id)!] ??= []).push(s);
  return { layers: out.filter(Boolean), deps };
}

const triggerText = (t: Record<string, unknown>) =>
  t.kind === "cron" ? `cron ${String(t.schedule)}` : t.kind === "datasetVersion" ? `new version of dataset ${String(t.datasetId)}` : t.kind === "alert" ? `alert${t.monitorId ? ` of monitor ${String(t.monitorId)}` : ""}` : String(t.kind);

/**
 * A pipeline: its steps as a DAG, its triggers, and its recent runs with each step's status.
 * The runs are live through pipelineRunUpdated (every run of this pipeline, new ones too).
 */
export class PipelineView extends OuroPanel {
  private pipeline: Pipeline | null = null;
  private readonly runs = new Map<string, RunRow>();
  private totalRuns = 0;
  private readonly runsBox = h("div", { class: "ouro-pipeline-runs" });

  constructor(connection: OuroConnection, pipelineId: string, label: string, private readonly open: (item: OuroItem) => void) {
    super(connection, { kind: "pipeline", id: pipelineId, label });
  }

  protected async load(): Promise<void> {
    const { pipeline } = await this.client.request(PipelinePanelDocument, { id: this.item.id, runs: SHOWN_RUNS }, { signal: this.signal });
    this.pipeline = pipeline;
    this.item.projectId = pipeline.projectId;
    this.title.label = `Pipeline ${pipeline.name}`;
    this.totalRuns = pipeline.runs.totalCount;
    for (const r of pipeline.runs.nodes) this.runs.set(r.id, r);
    fill(
      this.header,
      h(
        "div",
        { class: "ouro-title" },
        h("span", { class: "ouro-kind" }, "Pipeline"),
        h("strong", {}, pipeline.name),
        h("span", { class: "ouro-actions" }, h("button", { class: "jp-mod-styled jp-mod-accept ouro-small", "data-ouro-action": "run-pipeline", onclick: () => void this.run() }, "Run…")),
      ),
      h("div", { class: "ouro-meta" }, `updated ${when(pipeline.updatedAt)} · webhook ${pipeline.webhookPath}`),
    );
    const steps = ((pipeline.spec as { steps?: Step[] }).steps ?? []).filter((s) => s && typeof s.id === "string");
    const { layers: rows, deps } = layers(steps);
    const params = (pipeline.spec as { params?: Record<string, unknown> }).params;
    fill(
      this.body,
      h("h3", {}, "Steps"),
      h(
        "div",
        { class: "ouro-dag", "data-ouro-steps": steps.length },
        ...rows.map((layer, i) =>
          h(
            "div",
            { class: "ouro-dag-layer" },
            h("span", { class: "ouro-dag-level" }, String(i + 1)),
            ...layer.map((s) =>
              h("div", { class: "ouro-dag-step", "data-ouro-step": s.id, title: JSON.stringify(s.params ?? {}, null, 1) }, h("strong", {}, s.id), h("div", { class: "ouro-meta" }, s.kind), deps.get(s.id)?.length ? h("div", { class: "ouro-meta" }, `after ${deps.get(s.id)!.join(", ")}`) : null),
            ),
          ),
        ),
      ),
      params && Object.keys(params).length ? h("div", { class: "ouro-meta" }, `default params: ${JSON.stringify(params)}`) : null,
      h("h3", {}, "Triggers"),
      pipeline.triggers.length ? h("ul", { class: "ouro-triggers" }, ...pipeline.triggers.map((t) => h("li", {}, triggerText(t)))) : h("div", { class: "ouro-empty" }, "None (run it by hand)."),
      h("h3", {}, "Recent runs"),
      this.runsBox,
    );
    this.renderRuns();
    void this.follow();
  }

  private renderRuns(): void {
    const runs = [...this.runs.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)).slice(0, SHOWN_RUNS);
    // The stream replays every run, so the map may know more runs than the first page counted.
    const total = Math.max(this.totalRuns, this.runs.size);
    this.node.dataset.ouroRuns = String(total);
    fill(
      this.runsBox,
      runs.length
        ? table(
            ["created", "status", "trigger", "steps", "finished", ""],
            runs.map((r) => [
              when(r.createdAt),
              badge(r.status),
              `${String(r.trigger.kind ?? "?")}${r.force ? " (forced)" : ""}`,
              h(
                "span",
                { class: "ouro-step-chips" },
                ...r.steps.map((s) =>
                  h(
                    "span",
                    { class: `ouro-badge ouro-status-${s.status}`, "data-ouro-step": s.stepId, "data-ouro-status": s.status, title: `${s.kind}: ${s.status}${s.cacheHit ? " (cached)" : ""}${s.error ? ` — ${s.error}` : ""}` },
                    `${s.stepId}: ${s.status}${s.cacheHit ? " ⟲" : ""}`,
                  ),
                ),
              ),
              r.error ? h("span", { class: "ouro-error-text" }, r.error) : when(r.finishedAt),
              h(
                "span",
                { class: "ouro-actions" },
                ...r.steps.filter((s) => s.jobId).map((s) => h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), this.open({ kind: "job", id: s.jobId!, label: `${s.stepId} job`, projectId: this.item.projectId })) }, `${s.stepId} job`)),
              ),
            ]),
            "ouro-table ouro-runs",
          )
        : h("div", { class: "ouro-empty" }, "No runs yet: press Run…"),
      total > SHOWN_RUNS ? h("div", { class: "ouro-meta" }, `the ${SHOWN_RUNS} newest of ${total} runs`) : null,
    );
    for (const [i, tr] of [...this.runsBox.querySelectorAll("tbody tr")].entries()) if (runs[i]) (tr as HTMLElement).dataset.ouroRun = runs[i]!.id;
  }

  private async follow(): Promise<void> {
    const stream = this.client.pipelines.watch(this.item.id, {
      signal: this.signal,
      onReconnect: (err) => this.setMessage(`Connection to Ouro lost (${err.message}); reconnecting…`, "error"),
    });
    try {
      for await (const run of stream) {
        this.runs.set(run.id, run);
        this.setMessage("Live", "live");
        this.renderRuns();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** A deleted object keeps its header for context, without actions that can no longer work. */
  protected override fail(err: unknown): void {
    super.fail(err);
    if (this.gone) this.header.querySelector(".ouro-actions")?.remove();
  }

  private async run(): Promise<void> {
    if (this.pipeline && (await runPipeline(this.connection, this.pipeline))) this.setMessage("Run started; it appears below.", "live");
  }
}
