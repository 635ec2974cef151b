// Which kernel scores a deployment, end to end: one server with the default (the compiled
// Dense kernel), a second on the same database and artifacts with OURO_SERVING_KERNEL=tfjs.
// Both must answer the same rows with the same predictions, say which kernel they use on
// GET /v1/endpoints/{name}/status and on /metrics, and keep the endpoint to its project.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, newUserToken, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");
type Row = Record<string, unknown>;

describe("serving kernels: the compiled Dense kernel and TensorFlow.js", () => {
  let compiled: TestOuro;
  let tfjs: TestOuro;
  let artifacts: string;
  let versionId: string;
  let penguins: Row[];
  const baseOf = (t: TestOuro) => t.url.replace(/\/graphql$/, "");
  const features = (r: Row): Row => {
    const { Species: _s, ...rest } = r;
    return rest;
  };

  async function mutate(query: string, variables: Record<string, unknown>) {
    const r = await compiled.gql(query, variables);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  const get = (t: TestOuro, route: string, token: string | null = compiled.adminToken) => fetch(`${baseOf(t)}${route}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const predict = async (t: TestOuro, rows: Row[]) => {
    const res = await fetch(`${baseOf(t)}/v1/endpoints/penguins/predict`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${compiled.adminToken}` },
      body: JSON.stringify({ rows }),
    });
    const json = (await res.json()) as any;
    if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(json)}`);
    return json.predictions as { label: string; probabilities: Record<string, number> }[];
  };

  beforeAll(async () => {
    artifacts = await mkdtemp(path.join(os.tmpdir(), "ouro-kernel-artifacts-"));
    compiled = await startTestOuro({ label: "serving-kernel", worker: true, env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1", OURO_ARTIFACT_DIR: artifacts, OURO_MAX_BODY_BYTES: "65536" } });
    const projectId = await createProject(compiled, "kernels");
    penguins = (JSON.parse(await readFile(path.join(DATA, "penguins.json"), "utf8")) as Row[]).filter((r) => Object.values(r).every((v) => v !== null));
    const ingest = await waitForJob(compiled, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } })).id);
    const dataVersion = ingest.result.versionId;
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [
        { op: "drop", columns: ["Sex"] },
        { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
        { op: "oneHot", column: "Island" },
      ],
    });
    expect((await waitForJob(compiled, (await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: dataVersion })).id)).status).toBe("succeeded");
    // gelu hidden layers and a softmax head: the activations with the most arithmetic.
    const job = await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, {
      i: { projectId, datasetVersionId: dataVersion, recipeId: recipe.id, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [16, 8], activation: "gelu", epochs: 30 }, seed: 5 },
    });
    const done = await waitForJob(compiled, job.id, 120_000);
    expect(done.status, done.error).toBe("succeeded");
    const [run] = await compiled.app.db.query("SELECT id FROM runs WHERE job_id = $1", [job.id]);
    versionId = (await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguins" }) { id } }`, { r: run.id })).id;
    await mutate(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, { i: { projectId, name: "penguins", modelVersionId: versionId } });
    // The same database and artifact store, scoring with TensorFlow.js.
    tfjs = await startTestOuro({ databaseUrl: compiled.databaseUrl, env: { OURO_ARTIFACT_DIR: artifacts, OURO_SERVING_KERNEL: "tfjs" } });
  }, 300_000);
  afterAll(async () => {
    await tfjs?.stop();
    await compiled?.stop();
    await rm(artifacts, { recursive: true, force: true });
  });

  it("answer the same rows with the same predictions", async () => {
    const rows = penguins.filter((_, i) => i % 3 === 0).map(features);
    const [a, b] = await Promise.all([predict(compiled, rows), predict(tfjs, rows)]);
    expect(a).toHaveLength(rows.length);
    let worst = 0;
    a.forEach((p, i) => {
      expect(p.label).toBe(b[i].label);
      for (const k of Object.keys(p.probabilities)) worst = Math.max(worst, Math.abs(p.probabilities[k] - b[i].probabilities[k]));
    });
    expect(worst).toBeLessThan(1e-5);
    // The model learned something: not a constant answer.
    expect(new Set(a.map((p) => p.label)).size).toBe(3);
  });

  it("say which kernel scores each version on the endpoint's status", async () => {
    const res = await get(compiled, "/v1/endpoints/penguins/status");
    expect(res.status).toBe(200);
    const status = (await res.json()) as any;
    expect(status).toMatchObject({ name: "penguins", status: "active", revision: 1, microBatching: false, problems: [] });
    expect(status.routes).toEqual([{ name: "primary", role: "primary", weight: 1, members: [{ modelVersionId: versionId, model: "penguins", version: 1, kernel: "dense-js", kernelFallback: null }] }]);
    const other = (await (await get(tfjs, "/v1/endpoints/penguins/status")).json()) as any;
    expect(other.routes[0].members[0]).toMatchObject({ kernel: "tfjs", kernelFallback: expect.stringMatching(/OURO_SERVING_KERNEL=tfjs/) });
  });

  it("show the kernel and the serving counters on /metrics", async () => {
    await predict(compiled, [features(penguins[0])]);
    const text = await (await get(compiled, "/metrics")).text();
    expect(text).toContain(`ouro_serving_model_kernel{model_version_id="${versionId}",model="penguins",version="1",kernel="dense-js"} 1`);
    expect(text).toMatch(/ouro_serving_models_loaded\{kernel="dense-js"\} 1\n/);
    expect(text).toMatch(/ouro_serving_models_loaded\{kernel="tfjs"\} 0\n/);
    expect(Number(/ouro_serving_requests_total (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(/ouro_serving_rows_total (\d+)/.exec(text)?.[1])).toBeGreaterThan(100);
    const other = await (await get(tfjs, "/metrics")).text();
    expect(other).toMatch(/ouro_serving_models_loaded\{kernel="tfjs"\} 1\n/);
  });

  it("reads predict bodies in every form a client sends them, and refuses bad ones with clear errors", async () => {
    const send = (body: string | Uint8Array | ReadableStream, headers: Record<string, string>, init: Record<string, unknown> = {}) =>
      fetch(`${baseOf(compiled)}/v1/endpoints/penguins/predict`, { method: "POST", headers: { authorization: `Bearer ${compiled.adminToken}`, ...headers }, body, ...init });
    const row = features(penguins[0]);
    const json = JSON.stringify(row);
    const expected = (await predict(compiled, [row]))[0].label;
    const ok = async (res: Response, what: string) => {
      const body = (await res.json()) as any;
      expect(res.status, `${what}: ${JSON.stringify(body)}`).toBe(200);
      expect(body.predictions[0].label, what).toBe(expected);
    };
    const refused = async (res: Response, status: number, message: RegExp, what: string) => {
      const body = (await res.json()) as any;
      expect(res.status, what).toBe(status);
      expect(body.errors[0].message, what).toMatch(message);
    };
    // Plain JSON, with a charset, with leading whitespace.
    await ok(await send(json, { "content-type": "application/json" }), "plain");
    await ok(await send(json, { "content-type": "application/json; charset=utf-8" }), "utf-8 charset");
    await ok(await send(`  \n\t${json}`, { "content-type": "application/json" }), "leading whitespace");
    // Compressed, chunked (no content-length), another spelling of the type.
    await ok(await send(gzipSync(json), { "content-type": "application/json", "content-encoding": "gzip" }), "gzip");
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(json)), c.close()) });
    await ok(await send(stream, { "content-type": "application/json" }, { duplex: "half" }), "chunked");
    await ok(await send(json, { "content-type": "Application/JSON" }), "upper-case type");
    // Refused, each with its error.
    await refused(await send("42", { "content-type": "application/json" }), 400, /malformed request body/, "a number at the top level");
    await refused(await send("   ", { "content-type": "application/json" }), 400, /malformed request body/, "only whitespace");
    await refused(await send('{"rows": [', { "content-type": "application/json" }), 400, /malformed request body/, "truncated JSON");
    await refused(await send(json, { "content-type": "application/json; charset=latin1" }), 400, /malformed request body/, "an unsupported charset");
    await refused(await send("", { "content-type": "application/json" }), 400, /Island: missing/, "an empty body (read as {}, one empty row)");
    await refused(await send(JSON.stringify({ ...row, pad: "x".repeat(70_000) }), { "content-type": "application/json" }), 413, /larger than 65536 bytes/, "over the size limit");
    // Multi-byte UTF-8 arrives intact (an unknown field named with non-ASCII text is echoed back).
    await refused(await send(JSON.stringify({ ...row, "Flügel 🐧": 1 }), { "content-type": "application/json" }), 400, /Flügel 🐧: unknown field/, "non-ASCII field name");
    // The connection still works after a refused body.
    await ok(await send(json, { "content-type": "application/json" }), "after errors");
  });

  it("keep the status to the endpoint's project: no token 401, outsiders and unknown names 404", async () => {
    const noToken = await get(compiled, "/v1/endpoints/penguins/status", null);
    expect(noToken.status).toBe(401);
    const outsider = await newUserToken(compiled, "outsider@kernel.test");
    const foreign = await get(compiled, "/v1/endpoints/penguins/status", outsider);
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as any).errors[0].extensions.code).toBe("NOT_FOUND");
    expect((await get(compiled, "/v1/endpoints/no-such-endpoint/status")).status).toBe(404);
  });
});
