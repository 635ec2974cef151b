/**
 * The sidebar: one project's datasets, feature sets, experiments and runs (a search's trials
 * folded under its run), models and jobs.
 * It stays live: the project's audit stream says when something was created or changed (the
 * tree then reloads, debounced), and every queued or running job is watched for its status.
 */
import { Widget } from "@lumino/widgets";
import { acknowledgeAlert, cancelJob, runPipeline } from "./actions";
import { formatNumber } from "./chart";
import { describeError, type BackendStatus, type OuroConnection } from "./connection";
import { badge, h } from "./dom";
import {
  ProjectDataTreeDocument,
  ProjectModelTreeDocument,
  ProjectRunTreeDocument,
  ProjectServingTreeDocument,
  ProjectLabellingTreeDocument,
  SearchTrialsDocument,
  type ProjectLabellingTreeQuery,
  type ProjectDataTreeQuery,
  type ProjectModelTreeQuery,
  type ProjectRunTreeQuery,
  type ProjectServingTreeQuery,
} from "./generated/graphql";
import { childNoun, isSearch, nestChildRuns, showTrial, summarizeTrials, type TrialSummary } from "./search-tree";
import { newLabellingTask } from "./views/labelling-create";
import type { OuroItem } from "./views/panel";

type Tree = ProjectDataTreeQuery & ProjectRunTreeQuery & ProjectModelTreeQuery & ProjectServingTreeQuery & ProjectLabellingTreeQuery;
type TreeRun = Tree["runs"]["nodes"][number];
const ACTIVE = new Set(["queued", "running"]);
const PROJECT_KEY = "ouro:selected-project";

export interface TreeCallbacks {
  open(item: OuroItem): void;
  compare(runIds: string[]): void;
  insertSnippet(item: OuroItem): void;
}

export class OuroSidebar extends Widget {
  private readonly projectSelect = h("select", { class: "ouro-project-select", "aria-label": "Ouro project" });
  private readonly status = h("div", { class: "ouro-message", role: "status" });
  private readonly tree = h("div", { class: "ouro-tree" });
  private readonly closedSections = new Set<string>();
  private readonly checkedRuns = new Set<string>();
  /** Runs whose child runs (a search's trials) are unfolded; folded is the default. */
  private readonly unfolded = new Set<string>();
  /** Each unfolded search's trial summaries, and the state of its trials they were read at. */
  private readonly trialSummaries = new Map<string, { key: string; trials: Map<string, TrialSummary> }>();
  private readonly trialsLoading = new Map<string, string>();
  private live: AbortController | null = null;
  private readonly watched = new Set<string>();
  private reloadTimer: number | undefined;
  private projectId: string | null = null;
  private generation = 0;
  selected: OuroItem | null = null;

  constructor(private readonly connection: OuroConnection, private readonly callbacks: TreeCallbacks) {
    super();
    this.id = "ouro-sidebar";
    this.addClass("ouro-sidebar");
    this.title.caption = "Ouro";
    this.projectSelect.addEventListener("change", () => void this.selectProject(this.projectSelect.value));
    const button = (label: string, action: string, onclick: () => void, title: string) =>
      h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": action, title, onclick }, label);
    this.node.append(
      h(
        "div",
        { class: "ouro-sidebar-header" },
        h("div", { class: "ouro-sidebar-title" }, "Ouro"),
        this.projectSelect,
        h(
          "div",
          { class: "ouro-actions" },
          button("Refresh", "refresh", () => void this.start(), "Reload the project tree"),
          button("Compare", "compare", () => this.compare(), "Compare the runs ticked below"),
          button("Insert snippet", "snippet", () => this.snippet(), "Insert Python code for the selected item into the active notebook"),
        ),
      ),
      this.status,
      this.tree,
    );
  }

  private setStatus(text: string, level: "info" | "error" | "live" = "info"): void {
    this.status.textContent = text;
    this.status.dataset.level = level;
  }

  /** Handshake, projects, then the selected project. Every failure ends in a message with a Retry. */
  async start(): Promise<void> {
    this.stopLive();
    // A reload scheduled before this (re)start must not paint the old tree over its result.
    window.clearTimeout(this.reloadTimer);
    const generation = ++this.generation;
    this.setStatus("Connecting…");
    let backend: BackendStatus;
    try {
      backend = await this.connection.handshake();
    } catch (err) {
      return this.showProblem(describeError(err), "handshake");
    }
    if (!backend.url || !backend.tokenConfigured) {
      return this.showProblem(
        `Ouro is not configured on this Jupyter server: ${!backend.url ? "OURO_URL" : "OURO_TOKEN"} is not set. ` +
          "Start JupyterLab with OURO_URL and OURO_TOKEN in its environment (or set c.OuroProxy.url / c.OuroProxy.token).",
        "not-configured",
      );
    }
    try {
      const projects = await this.connection.client.projects.list({ first: 100 });
      this.projectSelect.replaceChildren(...projects.nodes.map((p) => h("option", { value: p.id }, p.name)));
      if (!projects.nodes.length) return this.showProblem(`Connected to ${backend.url}, but there are no projects yet. Create one from Python: client.projects.create("demo").`, "no-projects");
      const saved = localStorage.getItem(PROJECT_KEY);
      const chosen = projects.nodes.find((p) => p.id === (this.projectId ?? saved)) ?? projects.nodes[0];
      this.projectSelect.value = chosen.id;
      await this.selectProject(chosen.id);
    } catch (err) {
      if (generation === this.generation) this.showProblem(`${describeError(err)} (Ouro server: ${backend.url})`, "connect");
    }
  }

  private showProblem(message: string, kind: string): void {
    this.setStatus("");
    this.tree.replaceChildren(
      h("div", { class: "ouro-error", "data-ouro-error": kind }, message),
      h("button", { class: "jp-mod-styled", "data-ouro-action": "retry", onclick: () => void this.start() }, "Retry"),
    );
  }

  private async selectProject(projectId: string): Promise<void> {
    this.projectId = projectId;
    localStorage.setItem(PROJECT_KEY, projectId);
    this.checkedRuns.clear();
    await this.reload();
    this.follow(projectId);
  }

  private async reload(): Promise<void> {
    const projectId = this.projectId;
    const generation = this.generation;
    if (!projectId) return;
    try {
      const client = this.connection.client;
      const [data, runs, models, serving, labelling] = await Promise.all([
        client.request(ProjectDataTreeDocument, { projectId }),
        client.request(ProjectRunTreeDocument, { projectId }),
        client.request(ProjectModelTreeDocument, { projectId }),
        client.request(ProjectServingTreeDocument, { projectId }),
        client.request(ProjectLabellingTreeDocument, { projectId }),
      ]);
      if (projectId !== this.projectId || generation !== this.generation) return;
      this.render({ ...data, ...runs, ...models, ...serving, ...labelling });
      if (this.status.dataset.level !== "live") this.setStatus("Live", "live");
    } catch (err) {
      if (generation !== this.generation) return;
      if ((err as { code?: string }).code === "NOT_FOUND") {
        localStorage.removeItem(PROJECT_KEY);
        this.projectId = null;
        this.showProblem(describeError(err, "The project"), "project-gone");
        return;
      }
      // Keep the last tree if there is one; say what went wrong either way.
      if (!this.tree.querySelector(".ouro-section")) this.showProblem(describeError(err, "The project"), "load");
      else this.setStatus(describeError(err, "The project"), "error");
    }
  }

  private scheduleReload(): void {
    window.clearTimeout(this.reloadTimer);
    this.reloadTimer = window.setTimeout(() => void this.reload(), 400);
  }

  private stopLive(): void {
    this.live?.abort();
    this.live = null;
    this.watched.clear();
  }

  /** The project's audit events → reload; replayed history (before we looked) is skipped. */
  private follow(projectId: string): void {
    this.stopLive();
    const live = new AbortController();
    this.live = live;
    const since = Date.now() - 2000;
    void (async () => {
      const stream = this.connection.client.audit.follow(projectId, null, {
        signal: live.signal,
        onReconnect: (err) => this.setStatus(`Connection to Ouro lost (${err.message}); reconnecting…`, "error"),
      });
      try {
        for await (const event of stream) {
          if (this.status.dataset.level === "error") {
            this.setStatus("Live", "live");
            this.scheduleReload(); // whatever changed while we were away
          }
          if (Date.parse(event.at) >= since) this.scheduleReload();
        }
      } catch (err) {
        if (!live.signal.aborted) this.setStatus(`Live updates stopped: ${describeError(err)}`, "error");
      }
    })();
  }

  private watchJob(jobId: string): void {
    const live = this.live;
    if (!live || this.watched.has(jobId)) return;
    this.watched.add(jobId);
    void (async () => {
      try {
        for await (const job of this.connection.client.jobs.watch(jobId, { signal: live.signal })) {
          const row = this.tree.querySelector<HTMLElement>(`[data-ouro-kind="job"][data-ouro-id="${job.id}"]`);
          row?.querySelector(".ouro-badge")?.replaceWith(badge(job.status));
          const pct = row?.querySelector(".ouro-progress");
          if (pct) pct.textContent = `${Math.round(job.progress * 100)}%`;
          if (!ACTIVE.has(job.status)) this.scheduleReload();
        }
      } catch {
        /* the audit stream reports connection problems; a job that vanished disappears on reload */
      } finally {
        this.watched.delete(jobId);
      }
    })();
  }

  private render(data: Tree): void {
    const projectId = data.project.id;
    const node = (item: OuroItem, ...extra: (Node | string | null)[]) => {
      const li = h(
        "li",
        { class: "ouro-node", "data-ouro-kind": item.kind, "data-ouro-id": item.id, tabindex: 0, title: `${item.kind} ${item.id}` },
        h("span", { class: "ouro-node-label" }, item.label),
        ...extra,
      );
      if (this.selected?.id === item.id) li.classList.add("ouro-selected");
      li.addEventListener("click", (e) => {
        if ((e.target as HTMLElement).closest("input,button")) return;
        e.stopPropagation();
        this.select(item, li);
        this.callbacks.open(item);
      });
      return li;
    };
    const section = (key: string, title: string, total: number, items: HTMLElement[], empty: string) => {
      const details = h("details", { class: "ouro-section", "data-ouro-section": key }, h("summary", {}, `${title} (${total})`), items.length ? h("ul", {}, ...items) : h("div", { class: "ouro-empty" }, empty));
      details.open = !this.closedSections.has(key);
      details.addEventListener("toggle", () => (details.open ? this.closedSections.delete(key) : this.closedSections.add(key)));
      return details;
    };

    const { topLevel, childrenOf } = nestChildRuns(data.runs.nodes);
    const runsByExperiment = new Map<string, TreeRun[]>();
    for (const run of topLevel) runsByExperiment.set(run.experiment.id, [...(runsByExperiment.get(run.experiment.id) ?? []), run]);
    const runNode = (run: TreeRun, ...extra: HTMLElement[]) => {
      const box = h("input", { type: "checkbox", class: "ouro-compare-box", title: "Tick to compare", checked: this.checkedRuns.has(run.id) });
      box.addEventListener("change", () => (box.checked ? this.checkedRuns.add(run.id) : this.checkedRuns.delete(run.id)));
      return node({ kind: "run", id: run.id, label: run.name, projectId }, ...extra, box, badge(run.status));
    };
    // A run with child runs (a search and its trials): its row, then its children folded under it.
    const runRows = (run: TreeRun): HTMLElement[] => {
      const children = childrenOf.get(run.id);
      if (!children) return [runNode(run)];
      const group = h("li", { class: "ouro-child-runs", "data-ouro-trials-of": run.id }, h("ul", {}, ...children.flatMap(runRows)));
      const count = `${children.length} ${childNoun(run, children.length)}`;
      const toggle = h("button", { class: "ouro-toggle", "data-ouro-action": "toggle-trials", title: `Show or hide the ${count} of ${run.name}`, "aria-label": `${count} of ${run.name}` });
      const show = (open: boolean) => {
        group.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        toggle.textContent = open ? "▾" : "▸";
        if (open && isSearch(run)) void this.loadTrials(run, children, group, projectId);
      };
      toggle.addEventListener("click", () => {
        const open = !this.unfolded.has(run.id);
        if (open) this.unfolded.add(run.id);
        else this.unfolded.delete(run.id);
        show(open);
      });
      show(this.unfolded.has(run.id));
      const row = runNode(run, h("span", { class: "ouro-node-meta ouro-child-count" }, count));
      row.prepend(toggle);
      return [row, group];
    };

    this.tree.replaceChildren(
      section(
        "datasets",
        "Datasets",
        data.datasets.totalCount,
        data.datasets.nodes.map((d) =>
          node(
            { kind: "dataset", id: d.id, label: d.name, projectId },
            h("span", { class: "ouro-node-meta" }, d.latestVersion ? `v${d.latestVersion.version} · ${formatNumber(d.latestVersion.rowCount)} rows` : "no versions"),
            d.latestVersion ? this.labelButton(projectId, d.name, d.latestVersion) : null,
          ),
        ),
        "No datasets: ingest one with client.datasets.ingest(...).",
      ),
      section(
        "featureSets",
        "Feature sets",
        data.featureSets.totalCount,
        data.featureSets.nodes.map((f) =>
          node({ kind: "featureSet", id: f.id, label: f.name, projectId }, h("span", { class: "ouro-node-meta" }, f.materializedAt ? `${f.features.length} features` : "not materialized")),
        ),
        "No feature sets.",
      ),
      section(
        "experiments",
        "Experiments & runs",
        data.runs.totalCount,
        data.experiments.nodes.map((e) => {
          const li = h("li", { class: "ouro-group", "data-ouro-kind": "experiment", "data-ouro-id": e.id }, h("span", { class: "ouro-node-label" }, e.name));
          li.append(h("ul", {}, ...(runsByExperiment.get(e.id) ?? []).flatMap(runRows)));
          return li;
        }),
        "No runs yet.",
      ),
      section(
        "models",
        "Models",
        data.models.totalCount,
        data.models.nodes.map((m) =>
          node(
            { kind: "model", id: m.id, label: m.name, projectId },
            h("span", { class: "ouro-node-meta" }, `${m.versions.length} version(s)${m.aliases.length ? " · " + m.aliases.map((a) => `@${a.alias}`).join(" ") : ""}`),
          ),
        ),
        "No registered models.",
      ),
      section(
        "deployments",
        "Deployments",
        data.deployments.length,
        data.deployments.map((d) => node({ kind: "deployment", id: d.id, label: d.name, projectId }, badge(d.status), h("span", { class: "ouro-node-meta" }, `rev ${d.revision}`))),
        "No deployments: deploy a model version from its model's view.",
      ),
      section(
        "monitors",
        "Monitors",
        data.monitors.totalCount,
        data.monitors.nodes.map((m) => node({ kind: "monitor", id: m.id, label: m.name, projectId }, badge(m.status))),
        "No monitors.",
      ),
      section(
        "alerts",
        "Alerts",
        data.alerts.totalCount,
        data.alerts.nodes.map((a) =>
          node(
            { kind: "alert", id: a.id, label: a.message, projectId },
            badge(a.state),
            a.state === "firing"
              ? h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "ack-alert", onclick: () => void acknowledgeAlert(this.connection, a).then((ok) => ok && this.scheduleReload()) }, "Ack")
              : null,
          ),
        ),
        "No alerts.",
      ),
      section(
        "pipelines",
        "Pipelines",
        data.pipelines.totalCount,
        data.pipelines.nodes.map((p) =>
          node(
            { kind: "pipeline", id: p.id, label: p.name, projectId },
            h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "run-pipeline", onclick: () => void runPipeline(this.connection, p).then((ok) => ok && this.scheduleReload()) }, "Run"),
          ),
        ),
        "No pipelines.",
      ),
      section(
        "labelling",
        "Labelling tasks",
        data.labellingTasks.totalCount,
        data.labellingTasks.nodes.map((t) =>
          node({ kind: "labellingTask", id: t.id, label: t.name, projectId }, t.status === "ready" ? null : badge(t.status), h("span", { class: "ouro-node-meta" }, `${t.labelSchema.kind} · ${formatNumber(t.size)} rows`)),
        ),
        "No labelling tasks: create one with client.labelling.createTask(...).",
      ),
      section(
        "jobs",
        "Jobs",
        data.jobs.totalCount,
        data.jobs.nodes.map((j) =>
          node(
            { kind: "job", id: j.id, label: j.kind, projectId },
            badge(j.status),
            h("span", { class: "ouro-progress" }, `${Math.round(j.progress * 100)}%`),
            ACTIVE.has(j.status) ? h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "cancel-job", onclick: () => void cancelJob(this.connection, j) }, "Cancel") : null,
          ),
        ),
        "No jobs.",
      ),
    );
    for (const j of data.jobs.nodes) if (ACTIVE.has(j.status)) this.watchJob(j.id);
  }

  /**
   * Paints an unfolded search's trial summaries: the last ones read at once, then fresh ones
   * when its trials changed since (one started, finished or was stopped).
   */
  private async loadTrials(search: TreeRun, trials: TreeRun[], group: HTMLElement, projectId: string): Promise<void> {
    const key = JSON.stringify([search.status, trials.map((t) => [t.id, t.status])]);
    const cached = this.trialSummaries.get(search.id);
    if (cached) this.paintTrials(group, cached.trials);
    if (cached?.key === key || this.trialsLoading.get(search.id) === key) return;
    this.trialsLoading.set(search.id, key);
    try {
      const data = await this.connection.client.request(SearchTrialsDocument, { searchId: search.id, projectId });
      const summaries = summarizeTrials(search.id, data);
      this.trialSummaries.set(search.id, { key, trials: summaries });
      // The tree may have been redrawn meanwhile: paint what it shows now.
      const current = this.tree.querySelector<HTMLElement>(`[data-ouro-trials-of="${search.id}"]`);
      if (current) this.paintTrials(current, summaries);
    } catch (err) {
      this.setStatus(describeError(err, `Search ${search.name}`), "error");
    } finally {
      if (this.trialsLoading.get(search.id) === key) this.trialsLoading.delete(search.id);
    }
  }

  private paintTrials(group: HTMLElement, trials: Map<string, TrialSummary>): void {
    for (const [id, summary] of trials) {
      const row = group.querySelector<HTMLElement>(`:scope > ul > [data-ouro-kind="run"][data-ouro-id="${id}"]`);
      if (row) showTrial(row, summary);
    }
  }

  private select(item: OuroItem, li: HTMLElement): void {
    this.selected = item;
    for (const el of this.tree.querySelectorAll(".ouro-selected")) el.classList.remove("ouro-selected");
    li.classList.add("ouro-selected");
  }

  /** "Label…": a new labelling task on the dataset's latest version, opened once created. */
  private labelButton(projectId: string, name: string, v: { id: string; version: number; rowCount: number }): HTMLElement {
    const onclick = () =>
      void newLabellingTask(this.connection, { projectId, name, versionId: v.id, version: v.version, rows: v.rowCount }).then((task) => {
        if (!task) return;
        this.scheduleReload();
        this.callbacks.open({ kind: "labellingTask", id: task.id, label: task.name, projectId });
      });
    return h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "new-labelling-task", title: `New labelling task on ${name} v${v.version}`, onclick }, "Label…");
  }

  private compare(): void {
    const ids = [...this.checkedRuns];
    if (ids.length < 2) {
      this.setStatus("Tick two or more runs to compare them.", "error");
      return;
    }
    this.callbacks.compare(ids);
  }

  private snippet(): void {
    if (!this.selected) {
      this.setStatus("Select an item in the tree first.", "error");
      return;
    }
    this.callbacks.insertSnippet(this.selected);
  }

  override dispose(): void {
    this.stopLive();
    window.clearTimeout(this.reloadTimer);
    super.dispose();
  }
}
