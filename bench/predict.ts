/**
 * Online serving (issue 5): single-row POST /v1/endpoints/{name}/predict of a 20-64-64-1 MLP,
 * with validation, a recipe and the prediction log on, micro-batching off and on, at
 * concurrency 1, 16 and 64 (autocannon). Ouro runs twice on the same database: with its
 * default scoring kernel (the compiled Dense kernel, "dense-js") and with
 * OURO_SERVING_KERNEL=tfjs (TensorFlow.js, as the bare server) — beside, in the same run and
 * on the same model:
 *   - a bare node:http + TensorFlow.js server (bench/predict-bare.ts): Ouro's overhead;
 *   - FastAPI + PyTorch (bench/predict_fastapi.py; Debian's python3-fastapi, python3-uvicorn,
 *     python3-torch): the peer.
 * Then the prediction log's write rate under load: 100-row requests from 16 connections,
 * rows written per second as counted in PostgreSQL.
 *
 *   node -r @swc-node/register bench/predict.ts [--seconds=8] [--profile=DIR]
 * --profile: only Ouro (both kernels) at c=16, each server CPU-profiled during its load
 * (server-*.cpuprofile in DIR).
 * Floors: ≥ 3× FastAPI and ≥ 0.8× bare at c=16; p99 ≤ 15 ms at c=16; ≥ 5,000 req/s with
 * micro-batching; prediction log ≥ 20,000 rows/s.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import pg from "pg";
import { PredictionLog } from "../server/src/domains/deployments/serving/prediction-log";
import { createLogger } from "../server/src/platform/logger";
import { runJob } from "./data-lib";
import { arg, fmt, freePort, int, NODE, ROOT, sleep, startDatabase, startServer, stopChild, table } from "./lib";

const SECONDS = arg("seconds", 8);
const FEATURES = Array.from({ length: 20 }, (_, i) => `f${i}`);
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const PROFILE_DIR = process.argv.find((a) => a.startsWith("--profile="))?.split("=")[1];

/** A regression problem with 20 numeric features (a few missing, so the recipe has work). */
function trainingCsv(rows: number): string {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const lines = [[...FEATURES, "y"].join(",")];
  for (let i = 0; i < rows; i++) {
    const x = FEATURES.map(() => rnd() * 3);
    const y = x.reduce((s, v, j) => s + v * ((j % 5) - 2), 0) + Math.sin(x[0]) * 2;
    lines.push([...x.map((v, j) => (i % 97 === j ? "" : v.toFixed(4))), y.toFixed(4)].join(","));
  }
  return lines.join("\n") + "\n";
}

const sampleRow = (i: number) => Object.fromEntries(FEATURES.map((f, j) => [f, Math.round(Math.sin(i * 31 + j) * 3000) / 1000]));

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, connections: number, body: string, seconds = SECONDS): Promise<Load> {
  const result = await autocannon({ url, method: "POST", headers: { "content-type": "application/json", ...headers }, body, connections, duration: seconds, pipelining: 1 });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors + result.timeouts };
}

function waitLine(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${marker}: process exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => (line.includes(marker) ? resolve() : process.stderr.write(`${line}\n`)));
  });
}

async function waitHttp(url: string, body: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} never answered`);
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "ouro-bench-predict-"));
  const db = await startDatabase();
  const children: ChildProcess[] = [];
  try {
    // One artifact store for both servers: the second reads the models the first trained.
    const shared: Record<string, string> = { OURO_ARTIFACT_DIR: path.join(tmp, "artifacts"), ...(PROFILE_DIR ? { BENCH_PROFILE_DIR: path.resolve(PROFILE_DIR) } : {}) };
    const server = await startServer(db.url, { worker: true, env: shared });
    let tfjsServer: Awaited<ReturnType<typeof startServer>> | null = null;
    const base = server.url.replace(/\/graphql$/, "");
    const auth = { authorization: `Bearer ${server.token}` };
    try {
      console.log("setting up: ingest 20,000 rows, fit a recipe, train a 20-64-64-1 MLP, deploy twice");
      const { createProject } = await server.gql(`mutation { createProject(input: { name: "serving-bench" }) { id } }`);
      const projectId = createProject.id;
      const up = await fetch(`${base}/v1/uploads?projectId=${projectId}&filename=train.csv`, { method: "POST", headers: auth, body: trainingCsv(20_000) });
      const { uploadId } = (await up.json()) as { uploadId: string };
      const ingest = await runJob(server, `mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "bench", source: { uploadId } } });
      const versionId = ingest.result.versionId as string;
      const { createRecipe } = await server.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "fill", steps: $s) { id } }`, { p: projectId, s: [{ op: "fillNull", columns: FEATURES, strategy: "mean" }] });
      await runJob(server, `mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: createRecipe.id, v: versionId });
      const train = await runJob(server, `mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, {
        i: { projectId, datasetVersionId: versionId, recipeId: createRecipe.id, target: "y", task: "regression", model: { kind: "mlp", layers: [64, 64], epochs: 3, batchSize: 256 } },
      });
      const { registerModelVersion } = await server.gql(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "bench" }) { id artifactId } }`, { r: train.result.runId });
      for (const [name, microBatch] of [["plain", null], ["batched", { windowMs: 0, maxBatch: 64 }]] as const) {
        await server.gql(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, { i: { projectId, name, modelVersionId: registerModelVersion.id, microBatch } });
      }
      // The same endpoints served by a second process that scores with TensorFlow.js.
      tfjsServer = await startServer(db.url, { env: { ...shared, OURO_SERVING_KERNEL: "tfjs" } });
      const tfjsBase = tfjsServer.url.replace(/\/graphql$/, "");
      const kernels: string[] = [];
      for (const b of [base, tfjsBase]) {
        const status = (await (await fetch(`${b}/v1/endpoints/plain/status`, { headers: auth })).json()) as { routes: { members: { kernel: string }[] }[] };
        kernels.push(status.routes[0].members[0].kernel);
      }
      console.log(`kernels: default server ${kernels[0]}, OURO_SERVING_KERNEL=tfjs server ${kernels[1]}`);
      if (kernels[0] !== "dense-js" || kernels[1] !== "tfjs") throw new Error("the servers do not use the kernels this benchmark compares");
      const artifact = (await (await fetch(`${base}/v1/artifacts/${registerModelVersion.artifactId}`, { headers: auth })).json()) as { saved: unknown };
      const modelFile = path.join(tmp, "model.json");
      await writeFile(modelFile, JSON.stringify(artifact.saved));

      const barePort = await freePort();
      const bare = spawn(NODE, ["-r", "@swc-node/register", path.join(ROOT, "bench/predict-bare.ts"), modelFile, String(barePort)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
      children.push(bare);
      await waitLine(bare, "BARE_READY");
      const fastPort = await freePort();
      const fast = spawn(PYTHON, [path.join(ROOT, "bench/predict_fastapi.py"), modelFile, String(fastPort)], { stdio: ["ignore", "pipe", "inherit"] });
      children.push(fast);
      const row = JSON.stringify(sampleRow(1));
      await waitHttp(`http://127.0.0.1:${fastPort}/predict`, row);

      // The same row must give the same answer everywhere (float32 vs float64 aside).
      const ouroAnswer = (b: string) => fetch(`${b}/v1/endpoints/plain/predict`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: row }).then((r) => r.json()).then((j: any) => j.predictions[0].value as number);
      const answers = await Promise.all([
        ouroAnswer(base),
        ouroAnswer(tfjsBase),
        fetch(`http://127.0.0.1:${barePort}/`, { method: "POST", body: row }).then((r) => r.json()).then((j: any) => j.value as number),
        fetch(`http://127.0.0.1:${fastPort}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: row }).then((r) => r.json()).then((j: any) => j.value as number),
      ]);
      console.log(`same row → ouro (dense-js) ${fmt(answers[0], 6)}, ouro (tfjs) ${fmt(answers[1], 6)}, bare ${fmt(answers[2], 6)}, fastapi ${fmt(answers[3], 6)}`);
      if (Math.abs(answers[0] - answers[2]) > 1e-3 || Math.abs(answers[1] - answers[2]) > 1e-3 || Math.abs(answers[0] - answers[3]) > 1e-2) throw new Error("the servers disagree: not the same model");

      const OURO = "Ouro (dense-js kernel)";
      const OURO_TFJS = "Ouro (tfjs kernel)";
      const BARE = "bare node:http + tfjs";
      const FASTAPI = "FastAPI + PyTorch";
      const allTargets: [string, string, Record<string, string>, number | null][] = [
        [OURO, `${base}/v1/endpoints/plain/predict`, auth, server.pid],
        [`${OURO} + micro-batching`, `${base}/v1/endpoints/batched/predict`, auth, server.pid],
        [OURO_TFJS, `${tfjsBase}/v1/endpoints/plain/predict`, auth, tfjsServer.pid],
        [`${OURO_TFJS} + micro-batching`, `${tfjsBase}/v1/endpoints/batched/predict`, auth, tfjsServer.pid],
        [BARE, `http://127.0.0.1:${barePort}/`, {}, null],
        [FASTAPI, `http://127.0.0.1:${fastPort}/predict`, {}, null],
      ];
      const targets = PROFILE_DIR ? allTargets.filter(([n]) => n === OURO || n === OURO_TFJS) : allTargets;
      const levels = PROFILE_DIR ? [16] : [1, 16, 64];
      const results = new Map<string, Load>();
      // On a shared machine the load moves minute to minute: each target is measured in
      // ROUNDS slices of SECONDS/ROUNDS, interleaved with the others, so every server sees the
      // same mix of quiet and busy moments. req/s is the mean over the slices, p50 and p99 the
      // median of the slices' (the profile mode measures each target once, whole).
      const ROUNDS = PROFILE_DIR ? 1 : 3;
      const slice = Math.max(1, Math.round(SECONDS / ROUNDS));
      for (const c of levels) {
        for (const [, url, headers] of targets) await load(url, headers, c, row, slice); // warm-up
        const slices = new Map<string, Load[]>();
        for (let round = 0; round < ROUNDS; round++) {
          for (const [name, url, headers, pid] of targets) {
            if (PROFILE_DIR && pid) process.kill(pid, "SIGUSR2");
            const r = await load(url, headers, c, row, PROFILE_DIR ? SECONDS : slice);
            if (PROFILE_DIR && pid) {
              process.kill(pid, "SIGUSR2");
              await sleep(2000);
            }
            slices.set(name, [...(slices.get(name) ?? []), r]);
          }
        }
        for (const [name] of targets) {
          const all = slices.get(name)!;
          const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
          const r: Load = { rps: all.reduce((sum, x) => sum + x.rps, 0) / all.length, p50: median(all.map((x) => x.p50)), p99: median(all.map((x) => x.p99)), errors: all.reduce((sum, x) => sum + x.errors, 0) };
          results.set(`${name}@${c}`, r);
          console.log(`${name.padEnd(40)} c=${String(c).padEnd(3)} ${int(r.rps).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}  (slices: ${all.map((x) => int(x.rps)).join(", ")} req/s)`);
        }
      }
      const rows = levels.flatMap((c) => targets.map(([name]) => {
        const r = results.get(`${name}@${c}`)!;
        return [name, c, int(r.rps), r.p50, r.p99, r.errors];
      }));
      console.log("\n" + table(["server", "connections", "req/s", "p50 ms", "p99 ms", "errors"], rows));
      if (PROFILE_DIR) return;
      const at16 = (n: string) => results.get(`${n}@16`)!;
      const ratio = (a: string, b: string) => fmt(at16(a).rps / at16(b).rps, 2);
      console.log(`\nc=16, Ouro's overhead as the issue defines it (same tfjs model call): ${OURO_TFJS} / bare = ${ratio(OURO_TFJS, BARE)}× (floor 0.8×)`);
      console.log(`c=16, with the compiled kernel: ${OURO} / bare = ${ratio(OURO, BARE)}×`);
      console.log(`c=16 vs the peer: ${OURO} / FastAPI = ${ratio(OURO, FASTAPI)}×, ${OURO_TFJS} / FastAPI = ${ratio(OURO_TFJS, FASTAPI)}× (floor 3×)`);
      console.log(`c=16 p99: ${OURO} ${at16(OURO).p99} ms, ${OURO_TFJS} ${at16(OURO_TFJS).p99} ms, bare ${at16(BARE).p99} ms (floor 15 ms)`);
      const batchedBest = (n: string) => Math.max(...[16, 64].map((c) => results.get(`${n} + micro-batching@${c}`)!.rps));
      console.log(`micro-batching best: ${int(batchedBest(OURO))} req/s dense-js, ${int(batchedBest(OURO_TFJS))} req/s tfjs (floor 5,000)`);
      const loadAvg = os.loadavg();
      console.log(`load average at the end: ${loadAvg.map((l) => fmt(l, 1)).join(", ")} (${os.cpus().length} cores)`);

      // Prediction log throughput: 100-row requests, count what lands in PostgreSQL.
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const count = async () => Number((await client.query("SELECT count(*) AS n FROM prediction_log")).rows[0].n);
      const before = await count();
      const started = performance.now();
      const hundred = JSON.stringify({ rows: Array.from({ length: 100 }, (_, i) => sampleRow(i)) });
      const logLoad = await load(`${base}/v1/endpoints/batched/predict`, auth, 16, hundred);
      let after = await count();
      for (let i = 0; i < 100 && after - before < logLoad.rps * SECONDS * 100 * 0.99; i++) {
        await sleep(100);
        after = await count();
      }
      const seconds = (performance.now() - started) / 1000;
      await client.end();
      console.log(`\nprediction log under serving load: ${int(after - before)} rows written in ${fmt(seconds, 1)} s = ${int((after - before) / seconds)} rows/s (the endpoint served ${int(logLoad.rps * 100)} rows/s)`);

      // The writer's own capacity: rows pushed as fast as the buffer takes them, timed until written.
      const writer = new PredictionLog(db.url, createLogger("warn", "bench"), { maxBuffered: 1_000_000, batchRows: 2000, flushMs: 50 });
      writer.start();
      const N = 300_000;
      const at = new Date();
      const pending = Array.from({ length: N / 1000 }, (_, b) =>
        Array.from({ length: 1000 }, (_, k) => ({ deploymentId: projectId, projectId, requestId: `bench-${b * 1000 + k}`, modelVersionId: registerModelVersion.id, role: "primary" as const, inputs: sampleRow(k), outputs: { prediction: 1.5 }, latencyMs: 0.8, at })),
      );
      const t0 = performance.now();
      for (const rows of pending) writer.push(rows);
      await writer.drain(120_000);
      const writerSeconds = (performance.now() - t0) / 1000;
      const written = writer.stats();
      await writer.stop();
      console.log(`prediction log writer alone: ${int(written.written)} rows (20 features each) in ${fmt(writerSeconds, 2)} s = ${int(written.written / writerSeconds)} rows/s, dropped ${written.dropped} (floor 20,000)`);
    } finally {
      await tfjsServer?.stop();
      await server.stop();
    }
  } finally {
    for (const c of children) await stopChild(c);
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
