/**
 * The flights workload (issue 3): ingest, profile and a feature recipe over 3 million rows,
 * through Ouro's jobs, beside the same operations written by hand, in the same run.
 *
 *   node -r @swc-node/register bench/flights.ts [--repeat=3] [--recipe-only] [--quiet-wait=60] [--redo=2]
 *   BENCH_PYTHON=/tmp/bench-venv/bin/python …  (needs pandas + pyarrow; else that column is skipped)
 *
 * Data: vega-datasets' flights-3m.parquet (date datetime[µs], delay, distance, origin,
 * destination) and airports.csv (iata → state). The recipe joins state on the origin airport,
 * derives month and hour, fills nulls (this data has none: the fills run and change nothing),
 * one-hot encodes state (52 values, so maxCategories 100; state is kept for grouping) and groups
 * by (state, month): flight count, mean delay, distance and hour, and each state column's max
 * (the group's encoding). Both baselines must produce the same table (checked).
 *
 * Ouro: a server child (bench/serve.ts) with its worker runs the jobs; a job's time is its
 * startedAt → finishedAt in the database. The work runs in a task subprocess per job, whose own
 * peak RSS (ru_maxrss) and CPU time it reports as it exits (rss-probe.cjs).
 * Baselines, each in a fresh process of its own so its peak RSS is its own: the operations by
 * hand in nodejs-polars (eager, one pass, library defaults) and in pandas (flights_pandas.py);
 * their time is the work alone, from reading the input to writing the output Parquet.
 * Runs are interleaved and repeated; medians are shown. The machine may be shared, so each run
 * waits for a quiet machine, is redone (up to twice) if other processes used more than 20% of a
 * core meanwhile, and the CPU others used during the kept run is shown.
 * Last, a child times the jobs' pieces in-process (the functions the task subprocesses run),
 * to show where the time goes.
 */
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pl from "nodejs-polars";
import type { JobRun } from "./data-lib";

// The real path: ingestion refuses files whose real path leaves OURO_INGEST_ROOTS (symlinks).
const DATA = realpathSync(path.resolve(__dirname, "../node_modules/vega-datasets/data"));
const FLIGHTS = path.join(DATA, "flights-3m.parquet");
const AIRPORTS = path.join(DATA, "airports.csv");

/** Ouro's recipe; `states` are the one-hot columns the groupBy keeps (known from the data). */
function recipeSteps(airportsVersionId: string, states: string[]) {
  return [
    { op: "join", with: airportsVersionId, on: { left: "origin", right: "iata" }, columns: ["state"] },
    { op: "dateParts", column: "date", parts: ["month", "hour"] },
    { op: "fillNull", columns: ["state"], strategy: "constant", value: "unknown" },
    { op: "fillNull", columns: ["delay"], strategy: "mean" },
    { op: "oneHot", column: "state", maxCategories: 100, dropOriginal: false },
    { op: "groupBy", by: ["state", "date_month"], aggs: [
      { column: "delay", fn: "count", as: "flights" }, { column: "delay", fn: "mean" }, { column: "distance", fn: "mean" }, { column: "date_hour", fn: "mean" },
      ...[...states.map((s) => `state_${s}`), "state__other"].map((column) => ({ column, fn: "max" })),
    ] },
  ];
}

const FUSED = "fit + apply, one job (fitRecipe with outputDataset)";

/** One measured run: wall, CPU, peak RSS, others' CPU meanwhile; for a job, its subprocess's span. */
type Run = { ms: number; cpuMs: number; rssKb: number; others: number; before?: number; life?: number; after?: number; warm?: number };
type Breakdown = Awaited<ReturnType<typeof breakdown>>;

/** Child: the same work written by hand, as a nodejs-polars user would. */
function handWrittenPolars(out: string) {
  const phases: Record<string, number> = {};
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let last = start;
  const mark = (name: string) => ((phases[name] = performance.now() - last), (last = performance.now()));
  const flights = pl.readParquet(FLIGHTS);
  const airports = pl.readCSV(AIRPORTS).select(pl.col("iata").alias("origin"), "state");
  mark("read");
  let df = flights.join(airports, { on: "origin", how: "left" });
  mark("join");
  df = df.withColumns(pl.col("date").dt.month().alias("date_month"), pl.col("date").dt.hour().alias("date_hour"));
  mark("derive");
  df = df.withColumns(pl.col("state").fillNull(pl.lit("unknown")), pl.col("delay").fillNull(pl.col("delay").mean()));
  mark("fillNull");
  const dummies = df.select("state").toDummies();
  df = pl.concat([df, dummies], { how: "horizontal" });
  mark("oneHot");
  const result = df
    .groupBy(["state", "date_month"])
    .agg(
      pl.col("delay").count().alias("flights"), pl.col("delay").mean().alias("delay_mean"),
      pl.col("distance").mean().alias("distance_mean"), pl.col("date_hour").mean().alias("date_hour_mean"),
      ...dummies.columns.map((c) => pl.col(c).max().alias(`${c}_max`)),
    )
    .sort(["state", "date_month"]);
  mark("groupBy");
  result.writeParquet(out, { compression: "zstd" });
  mark("write");
  const cpu = process.cpuUsage(cpu0);
  return { phases, workMs: performance.now() - start, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS, rows: result.height };
}

/** Child: the pieces of the jobs, in-process — the same functions the task subprocesses run. */
async function breakdown(inputFile: string) {
  const input = JSON.parse(readFileSync(inputFile, "utf8"));
  // Loaded here, not at the top, so the hand-written child loads nothing but polars.
  const { runInSubprocess }: typeof import("../server/src/platform/subprocess") = require("../server/src/platform/subprocess");
  const { readParquetFile }: typeof import("../server/src/domains/datasets/parquet") = require("../server/src/domains/datasets/parquet");
  const { writeParquet }: typeof import("../server/src/domains/datasets/sources/write-parquet") = require("../server/src/domains/datasets/sources/write-parquet");
  const { fitOnFile, applyToFile, fitApplyToFile }: typeof import("../server/src/domains/recipes/recipe.work") = require("../server/src/domains/recipes/recipe.work");
  const { applyStepBatch }: typeof import("../server/src/domains/recipes/engine/batch-steps") = require("../server/src/domains/recipes/engine/batch-steps");
  const { conformFrame }: typeof import("../server/src/domains/recipes/engine/polars-types") = require("../server/src/domains/recipes/engine/polars-types");
  const time = async <T>(fn: () => T | Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    return [await fn(), performance.now() - t];
  };
  // First, on a fresh heap: the steps one at a time on materialised frames (applyStepBatch;
  // the jobs run them as one lazy query), with the RSS after each step.
  const steps: { piece: string; ms: number; rssMb: number }[] = [];
  const step = async (piece: string, fn: () => pl.DataFrame) => {
    const [df, ms] = await time(fn);
    steps.push({ piece, ms, rssMb: process.memoryUsage().rss / 2 ** 20 });
    return df;
  };
  let df = await step("read", () => readParquetFile(input.flightsBlob));
  df = await step("conform", () => conformFrame(df, input.fitted.inputSchema));
  for (const s of input.fitted.steps) df = await step(s.op, () => applyStepBatch(df, s));
  await step("write", () => (writeParquet(df, path.join(input.tmp, "steps.parquet")), df));
  const stepsPeakMb = process.resourceUsage().maxRSS / 1024;
  // Start-up of a task subprocess: fork, @swc-node/register, compiling the work module and
  // what it imports, loading polars; then it fails fast on an export that does not exist.
  const startupMs: Record<string, number[]> = {};
  for (const work of ["datasets/ingest.work.ts", "datasets/profile.work.ts", "recipes/recipe.work.ts"]) {
    const module = path.join(__dirname, "../server/src/domains", work);
    for (let i = 0; i < 3; i++) (startupMs[work] ??= []).push((await time(() => runInSubprocess(module, "__none__", {}).catch(() => null)))[1]);
  }
  const refs = { [input.airportsVersionId]: input.airportsBlob };
  const [, fitMs] = await time(() => fitOnFile({ file: input.flightsBlob, steps: input.steps, refs }));
  const [, applyMs] = await time(() => applyToFile({ file: input.flightsBlob, fitted: input.fitted, out: path.join(input.tmp, "apply.parquet") }));
  const [, fitApplyMs] = await time(() => fitApplyToFile({ file: input.flightsBlob, steps: input.steps, refs, out: path.join(input.tmp, "fit-apply.parquet") }));
  return { steps, stepsPeakMb, startupMs, fitMs, applyMs, fitApplyMs };
}

async function main() {
  // Loaded here, not at the top, so the children load nothing of the server or the bench kit.
  const { arg, fmt, table, ROOT }: typeof import("./lib") = require("./lib");
  const { waitForQuiet }: typeof import("./cpu") = require("./cpu");
  const dl: typeof import("./data-lib") = require("./data-lib");
  const repeat = arg("repeat", 3);
  const recipeOnly = process.argv.includes("--recipe-only");
  // On a busy shared machine: how long to wait for quiet before each run, and how often to redo a disturbed one.
  const quietWaitS = arg("quiet-wait", 60);
  const redo = arg("redo", 2);
  const python = process.env.BENCH_PYTHON ?? "python3";
  const tmp = await mkdtemp(path.join(os.tmpdir(), "ouro-bench-flights-"));
  const forgetTmp = dl.onInterrupt(() => rm(tmp, { recursive: true, force: true }));
  const probe = new dl.ProbeLog(path.join(tmp, "rss.ndjson"));
  const env = { OURO_INGEST_ROOTS: DATA, OURO_ARTIFACT_DIR: path.join(tmp, "artifacts") };
  const blob = (sha: string) => path.join(env.OURO_ARTIFACT_DIR, "blobs", sha.slice(0, 2), sha); // LocalArtifactStore's layout

  const runs: Record<string, Run[]> = {};
  const phases: Record<string, Record<string, number>[]> = { polars: [], pandas: [] };
  /** Runs `fn` on a quiet machine: again (up to twice) if others used > 20% of a core meanwhile. */
  const quietly = async <T>(what: string, fn: () => Promise<T>): Promise<[T, number]> => {
    for (let attempt = 0; ; attempt++) {
      const idle = await waitForQuiet(quietWaitS * 1000);
      const others = dl.othersCpu();
      const t0 = performance.now();
      const value = await fn();
      const busy = others();
      console.error(`${what}: ${fmt(performance.now() - t0, 0)} ms (machine busy before ${fmt(idle, 0)}%; others' CPU during ${fmt(busy, 0)}%)`);
      if (busy <= 20 || attempt >= redo) return [value, busy];
    }
  };
  const fromJob = (j: JobRun, others: number): Run => {
    // The job's own task process is the last to exit: the worker keeps warm spares
    // (platform/subprocess.ts), and an idle one may be stopped while a job runs. A spare
    // started before the job and taken by it ran its start-up outside the job: its span in
    // the job starts with the job.
    const p = [...j.processes].sort((a, b) => b.endMs - a.endMs)[0];
    if (!p) throw new Error(`job ${j.id}: no task subprocess reported`);
    const start = Math.max(p.startMs, j.startedAtMs);
    return { ms: j.jobMs, cpuMs: p.cpuMs, rssKb: p.maxRssKb, others, before: start - j.startedAtMs, life: p.endMs - start, after: j.finishedAtMs - p.endMs, warm: p.startMs < j.startedAtMs ? 1 : 0 };
  };
  let pandasNote = "";
  try {
    await dl.withDataServer(env, probe, async (server) => {
      const job = async (name: string, mutation: string, variables: Record<string, unknown>) => {
        const [j, others] = await quietly(name, () => dl.runJob(server, mutation, variables, probe));
        (runs[name] ??= []).push(fromJob(j, others));
        return j;
      };
      const ingest = `mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`;
      const projectId = (await server.gql(`mutation { createProject(input: { name: "flights" }) { id } }`)).createProject.id;
      const airports = await job("ingest airports.csv (3,376 rows)", ingest, { i: { projectId, dataset: "airports", source: { path: AIRPORTS } } });
      let flightsVersionId = "";
      // --recipe-only: ingest once and skip the profile (the recipe rows are what the floors are about).
      for (let r = 0; r < (recipeOnly ? 1 : repeat); r++) flightsVersionId = (await job("ingest flights-3m.parquet", ingest, { i: { projectId, dataset: "flights", source: { path: FLIGHTS } } })).result.versionId;
      for (let r = 0; r < (recipeOnly ? 0 : repeat); r++) await job("profile flights", `mutation($v: ID!) { profileDataset(versionId: $v) { id } }`, { v: flightsVersionId });

      // The one-hot columns the groupBy keeps are the data's states (52); found untimed here.
      const states = pl
        .readParquet(FLIGHTS, { columns: ["origin"] })
        .join(pl.readCSV(AIRPORTS).select(pl.col("iata").alias("origin"), "state"), { on: "origin" })
        .getColumn("state").unique().sort().toArray() as string[];
      const created = await server.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "flights", steps: $s) { id } }`, { p: projectId, s: recipeSteps(airports.result.versionId, states) });
      const recipeId = created.createRecipe.id;
      let appliedVersionId = "";
      let fusedVersionId = "";
      for (let r = 0; r < repeat; r++) {
        const fit = await job("fit recipe", `mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipeId, v: flightsVersionId });
        const apply = await job("apply recipe", `mutation($r: ID!, $v: ID!) { applyRecipe(recipeId: $r, versionId: $v, outputDataset: "flights-by-state-month") { id } }`, { r: recipeId, v: flightsVersionId });
        appliedVersionId = apply.result.versionId;
        const [f, a] = [runs["fit recipe"][r], runs["apply recipe"][r]];
        (runs["fit + apply, two jobs"] ??= []).push({ ms: f.ms + a.ms, cpuMs: f.cpuMs + a.cpuMs, rssKb: Math.max(f.rssKb, a.rssKb), others: (f.others + a.others) / 2 });
        // What a user who wants both asks for: fitRecipe with outputDataset, one job, one pass.
        const fused = await job(FUSED, `mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v, outputDataset: "flights-by-state-month-1") { id } }`, { r: recipeId, v: flightsVersionId });
        fusedVersionId = fused.result.versionId;

        const [hand, handOthers] = await quietly("polars by hand", () => dl.runTs("bench/flights.ts", ["--child=polars", path.join(tmp, "polars.parquet")]));
        const h = dl.lastJson<ReturnType<typeof handWrittenPolars>>(hand, "hand-written polars");
        phases.polars.push(h.phases);
        (runs["hand-written nodejs-polars"] ??= []).push({ ms: h.workMs, cpuMs: h.cpuMs, rssKb: h.maxRssKb, others: handOthers });

        const noPython = (err: Error) => ({ code: null, stdout: JSON.stringify({ skip: err.message }), stderr: "" });
        const [py, pyOthers] = await quietly("pandas", () => dl.runChild(python, [path.join(ROOT, "bench/flights_pandas.py"), FLIGHTS, AIRPORTS, path.join(tmp, "pandas.parquet")]).catch(noPython));
        const p = dl.lastJson<{ skip?: string; phases: Record<string, number>; workMs: number; cpuMs: number; maxRssKb: number; versions: Record<string, string> }>(py, "pandas");
        pandasNote = p.skip ? `pandas skipped (${python}): ${p.skip}` : `pandas ${p.versions.pandas}, pyarrow ${p.versions.pyarrow}, Python ${p.versions.python}.`;
        if (p.skip) continue;
        phases.pandas.push(p.phases);
        (runs.pandas ??= []).push({ ms: p.workMs, cpuMs: p.cpuMs, rssKb: p.maxRssKb, others: pyOthers });
      }

      // The three must give the same table: same groups, counts and mean delays.
      const ouroRows = (await server.gql(`query($id: ID!) { datasetVersion(id: $id) { preview(limit: 500) { rows } } }`, { id: appliedVersionId })).datasetVersion.preview.rows as Record<string, number>[];
      const hashOf = async (id: string) => (await server.gql(`query($id: ID!) { datasetVersion(id: $id) { contentHash } }`, { id })).datasetVersion.contentHash;
      if ((await hashOf(fusedVersionId)) !== (await hashOf(appliedVersionId))) throw new Error("the one-job output differs from fitRecipe then applyRecipe");
      for (const name of runs.pandas ? ["polars", "pandas"] : ["polars"]) {
        const rows = pl.readParquet(path.join(tmp, `${name}.parquet`)).toRecords() as Record<string, number>[];
        const same = rows.length === ouroRows.length && rows.every((r, i) => Number(r.flights) === ouroRows[i].flights && Math.abs(r.delay_mean - ouroRows[i].delay_mean) < 1e-9);
        if (!same) throw new Error(`${name}'s table differs from Ouro's (${rows.length} vs ${ouroRows.length} rows)`);
      }

      // Where the time goes: the jobs' pieces in-process, in a fresh child (its heap is its own).
      const recipe = (await server.gql(`query($id: ID!) { recipe(id: $id) { steps fitted } }`, { id: recipeId })).recipe;
      const hash = async (id: string) => (await server.gql(`query($id: ID!) { datasetVersion(id: $id) { contentHash } }`, { id })).datasetVersion.contentHash;
      const input = { tmp, steps: recipe.steps, fitted: recipe.fitted, airportsVersionId: airports.result.versionId, flightsBlob: blob(await hash(flightsVersionId)), airportsBlob: blob(await hash(airports.result.versionId)) };
      writeFileSync(path.join(tmp, "breakdown.json"), JSON.stringify(input));
      const [out, breakdownOthers] = await quietly("breakdown", () => dl.runTs("bench/flights.ts", ["--child=breakdown", path.join(tmp, "breakdown.json")]));
      const b = dl.lastJson<Breakdown>(out, "breakdown");
      report(runs, phases, b, { repeat, pandasNote, breakdownOthers, workerPeakKb: dl.peakRssKb(server.pid) });
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
    forgetTmp();
  }
}

function report(runs: Record<string, Run[]>, phases: Record<string, Record<string, number>[]>, b: Breakdown, meta: { repeat: number; pandasNote: string; breakdownOthers: number; workerPeakKb: number }) {
  const { fmt, table }: typeof import("./lib") = require("./lib");
  const { median, mib }: typeof import("./data-lib") = require("./data-lib");
  const med = (name: string, key: keyof Run) => median(runs[name].map((r) => r[key] ?? NaN));
  const times = (ratio: number) => (Number.isFinite(ratio) ? `${fmt(ratio, 2)}×` : "-");
  const polars = med("hand-written nodejs-polars", "ms");
  const pandas = runs.pandas ? med("pandas", "ms") : NaN;
  console.log(`\n### Flights workload: 3,000,000 rows, ${meta.repeat} run(s) each, medians\n`);
  console.log(table(
    ["what", "wall ms", "min–max ms", "CPU ms", "peak RSS", "÷ polars by hand", "pandas ÷ this", "others' CPU during"],
    Object.entries(runs).map(([name, list]) => {
      const ms = list.map((r) => r.ms);
      return [name, fmt(med(name, "ms"), 0), `${fmt(Math.min(...ms), 0)}–${fmt(Math.max(...ms), 0)}`, fmt(med(name, "cpuMs"), 0), mib(med(name, "rssKb")),
        times(med(name, "ms") / polars), times(pandas / med(name, "ms")), `${fmt(med(name, "others"), 0)}%`];
    }),
  ));
  console.log(`\nOuro: job startedAt→finishedAt; CPU and peak RSS of the job's task subprocess (the worker process's own peak over the whole run: ${mib(meta.workerPeakKb)}).`);
  console.log(`Baselines: the work alone (read input → write output), each in a process of its own. ${meta.pandasNote}`);
  const fitApply = med(FUSED, "ms");
  const apply = med("apply recipe", "ms");
  console.log(`\nFloor "recipe job ≤ 1.2× hand-written polars": fit + apply in one job ${fmt(fitApply / polars, 2)}× → ${fitApply / polars <= 1.2 ? "met" : "NOT met"}; apply alone ${fmt(apply / polars, 2)}× → ${apply / polars <= 1.2 ? "met" : "NOT met"}; fit then apply as two jobs ${fmt(med("fit + apply, two jobs", "ms") / polars, 2)}×.`);
  if (runs.pandas) console.log(`Floor "≥ 2× faster than pandas": pandas ÷ (fit + apply, one job) = ${fmt(pandas / fitApply, 2)}×, pandas ÷ apply = ${fmt(pandas / apply, 2)}× → ${pandas / fitApply >= 2 ? "met" : "NOT met"}.`);

  console.log(`\n### Where a job's time goes (ms, medians)\n`);
  const jobs = ["ingest flights-3m.parquet", "profile flights", "fit recipe", "apply recipe", FUSED].filter((name) => runs[name]);
  console.log(table(
    ["job", "job", "warm task process taken", "worker, before the subprocess", "subprocess, within the job", "worker, after the subprocess"],
    jobs.map((name) => [name, fmt(med(name, "ms"), 0), `${runs[name].filter((r) => r.warm).length} of ${runs[name].length}`, fmt(med(name, "before"), 0), fmt(med(name, "life"), 0), fmt(med(name, "after"), 0)]),
  ));
  console.log(`\nThe subprocess's span is its lifetime (rss-probe.cjs) from the job's start: a warm spare (platform/subprocess.ts) started and loaded its module before the job. Start-up, measured in a fresh process as consecutive calls that load the module and stop (the first forks cold, the next take the spare the previous one left): ${Object.entries(b.startupMs).map(([w, ms]) => `${path.basename(w)} ${ms.map((m) => fmt(m, 0)).join("/")}`).join("; ")} ms.`);
  console.log(`In-process, without a subprocess: fitOnFile ${fmt(b.fitMs, 0)} ms, applyToFile ${fmt(b.applyMs, 0)} ms, fitApplyToFile ${fmt(b.fitApplyMs, 0)} ms (others' CPU during the breakdown: ${fmt(meta.breakdownOthers, 0)}%).`);

  console.log(`\n### Per phase (ms): Ouro's steps one at a time on materialised frames in-process (the jobs run one lazy query instead), beside the hand-written versions\n`);
  const groups: [string, string[]][] = [["read", ["read", "conform"]], ["join", ["join"]], ["derive", ["dateParts"]], ["fillNull", ["fillNull"]], ["oneHot", ["oneHot"]], ["groupBy", ["groupBy"]], ["write", ["write"]]];
  const ouro = (ops: string[]) => b.steps.filter((s) => ops.includes(s.piece));
  const byHand = (who: string, k: string) => (phases[who].length ? fmt(median(phases[who].map((p) => p[k] ?? 0)), 0) : "-");
  console.log(table(
    ["phase", "Ouro engine", "Ouro RSS after (MiB)", "polars by hand", "pandas"],
    groups.map(([k, ops]) => [k, fmt(ouro(ops).reduce((a, s) => a + s.ms, 0), 0), fmt(Math.max(...ouro(ops).map((s) => s.rssMb)), 0), byHand("polars", k), byHand("pandas", k)]),
  ));
  console.log(`\nOuro engine: one run; peak RSS ${fmt(b.stepsPeakMb, 0)} MiB. By hand: medians of the runs above.`);
}

const child = process.argv.find((a) => a.startsWith("--child="))?.slice("--child=".length);
const work = child === "polars" ? async () => handWrittenPolars(process.argv[3]) : child === "breakdown" ? () => breakdown(process.argv[3]) : null;
if (work) work().then((r) => console.log(JSON.stringify(r)), (err: unknown) => (console.error(err), process.exit(1)));
else main().catch((err: unknown) => (console.error(err), process.exit(1)));
