/**
 * Child runs in the sidebar. A hyperparameter search's trials are runs whose parentRunId is
 * the search's run; the tree shows them folded under it (a search may have dozens). Once a
 * search is unfolded, each trial row also says what the search varied for that trial and the
 * score the search gave it, with the best trial marked: trial-0, trial-1… say nothing alone.
 */
import { formatNumber } from "./chart";
import { h } from "./dom";
import type { ProjectRunTreeQuery, SearchTrialsQuery } from "./generated/graphql";

type TreeRun = ProjectRunTreeQuery["runs"]["nodes"][number];

/** Params every trial has that say nothing about the trial itself. */
const BOOKKEEPING = new Set(["trial", "search"]);

/** Runs whose parent is in the list go under it (oldest first, as the search started them); the rest stay at the top. */
export function nestChildRuns(runs: TreeRun[]): { topLevel: TreeRun[]; childrenOf: Map<string, TreeRun[]> } {
  const ids = new Set(runs.map((r) => r.id));
  const topLevel: TreeRun[] = [];
  const childrenOf = new Map<string, TreeRun[]>();
  for (const run of runs) {
    if (run.parentRunId && run.parentRunId !== run.id && ids.has(run.parentRunId)) childrenOf.set(run.parentRunId, [...(childrenOf.get(run.parentRunId) ?? []), run]);
    else topLevel.push(run);
  }
  for (const children of childrenOf.values()) children.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.name.localeCompare(b.name, undefined, { numeric: true }));
  return { topLevel, childrenOf };
}

export const isSearch = (run: TreeRun) => (run.tags as { kind?: unknown }).kind === "search";

/** What the children of a run are called in its toggle. */
export const childNoun = (run: TreeRun, n: number) => (isSearch(run) ? (n === 1 ? "trial" : "trials") : n === 1 ? "child run" : "child runs");

export interface TrialSummary {
  /** The params the search varied (raw values, by key). */
  params: Record<string, string>;
  metric: string | null;
  score: number | null;
  best: boolean;
}

/** Each trial's summary, by run id, from what the search recorded. */
export function summarizeTrials(searchId: string, data: SearchTrialsQuery): Map<string, TrialSummary> {
  const searchParams = new Map(data.run.params.map((p) => [p.key, p.value]));
  const metric = searchParams.get("metric") ?? null;
  const series = new Map(data.run.metrics.map((m) => [m.key, m.points]));
  const trials = data.runs.nodes.filter((r) => r.parentRunId === searchId).map((r) => ({ id: r.id, params: new Map(r.params.map((p) => [p.key, p.value])) }));
  // A trial stopped early has only the search's bookkeeping params (training records the rest
  // when it ends): a key missing there does not make it vary.
  const varies = (k: string) => new Set(trials.flatMap((t) => (t.params.has(k) ? [t.params.get(k)] : []))).size > 1;
  const keys = [...new Set(trials.flatMap((t) => [...t.params.keys()]))].filter((k) => !BOOKKEEPING.has(k) && varies(k)).sort();
  const summaries = new Map<string, TrialSummary>();
  for (const t of trials) {
    const index = Number(t.params.get("trial"));
    const rung = t.params.get("rung");
    const points = metric ? series.get(rung !== undefined ? `rung${rung}.${metric}` : `trial.${metric}`) : undefined;
    const score = points?.find((p) => p.step === index)?.value ?? null;
    const params = Object.fromEntries(keys.filter((k) => t.params.has(k)).map((k) => [k, t.params.get(k)!]));
    summaries.set(t.id, { params, metric, score, best: searchParams.get("bestRunId") === t.id });
  }
  return summaries;
}

/** "lr=0.0031" rather than "model.learningRate=0.00312345678": the last part of the key, numbers rounded. */
function paramText(params: Record<string, string>): string {
  const short = (k: string) => k.slice(k.lastIndexOf(".") + 1);
  const shorts = Object.keys(params).map(short);
  return Object.entries(params)
    .map(([k, v]) => {
      const name = shorts.filter((s) => s === short(k)).length > 1 ? k : short(k);
      const n = Number(v);
      return `${name}=${v.trim() !== "" && Number.isFinite(n) && !Number.isInteger(n) ? formatNumber(n) : v}`;
    })
    .join(" · ");
}

/** Puts a trial's summary on its row (replacing an older one); the raw values go in data attributes. */
export function showTrial(row: HTMLElement, s: TrialSummary): void {
  row.querySelector(":scope > .ouro-trial-meta")?.remove();
  row.querySelector(":scope > .ouro-best")?.remove();
  // The score first: it is what the trials are compared by, and the row may be cut short.
  const parts = [s.metric && s.score !== null ? `${s.metric} ${formatNumber(s.score)}` : "", paramText(s.params)].filter(Boolean);
  const text = parts.join(" · ");
  const meta = h("span", { class: "ouro-node-meta ouro-trial-meta", title: text }, text);
  const best = s.best ? h("span", { class: "ouro-best", title: `The search's best trial${s.metric ? ` by ${s.metric}` : ""}` }, "★ best") : null;
  row.querySelector(":scope > .ouro-node-label")!.after(...(best ? [meta, best] : [meta]));
  row.dataset.ouroParams = JSON.stringify(s.params);
  if (s.score !== null) row.dataset.ouroScore = String(s.score);
  else delete row.dataset.ouroScore;
}
