import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { buildSchema, parse, print, type DefinitionNode } from "graphql";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import codegenConfig, { GENERATED_FILE } from "../jupyter-extension/codegen";
import { readConfig } from "../server/src/platform/config";
import { validateWithLimits } from "../server/src/platform/graphql/limits";
import { freePort, launchBrowser, requireUiTools, Screenshots, startJupyterLab, startOuroOn, stopProcess } from "./helpers/jupyter";
import { createProject, points, waitForJob, type TestOuro } from "./helpers/ouro";

/**
 * The JupyterLab extension in a real JupyterLab (from .venv, with the extension installed from
 * its wheel by scripts/python-env.sh) driven through Debian's chromium, against a real Ouro on
 * embedded PostgreSQL with a worker. Screenshots go to test-output/ui/; their paths are printed.
 */
const ROOT = path.resolve(__dirname, "..");
const DATA = path.join(ROOT, "node_modules/vega-datasets/data");
const EXT = path.join(ROOT, "jupyter-extension");

describe("jupyter-extension generated documents", () => {
  it("are up to date with schema.graphql and src/operations (else run `npm run -w jupyter-extension codegen`)", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "ouro-ext-codegen-"));
    try {
      const target = path.join(tmp, GENERATED_FILE);
      await generate({ ...codegenConfig, cwd: EXT, silent: true, generates: { [target]: codegenConfig.generates[GENERATED_FILE]! } }, true);
      const fresh = await readFile(target, "utf8");
      const committed = await readFile(path.join(EXT, GENERATED_FILE), "utf8").catch(() => "");
      expect(fresh === committed, `jupyter-extension/${GENERATED_FILE} is stale: run \`npm run -w jupyter-extension codegen\``).toBe(true);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  it("every panel query passes the server's validation and default limits (depth, cost)", async () => {
    const schema = buildSchema(await readFile(path.join(ROOT, "schema.graphql"), "utf8"));
    const limits = readConfig({}).limits;
    const dir = path.join(EXT, "src/operations");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".graphql"));
    const docs = await Promise.all(files.map(async (f) => parse(await readFile(path.join(dir, f), "utf8"))));
    const problems = docs.flatMap((doc) => doc.definitions).flatMap((def: DefinitionNode) => {
      const single = parse(print({ kind: "Document" as never, definitions: [def] }));
      return validateWithLimits(schema, single, limits).map((e) => `${"name" in def ? def.name?.value : "?"}: ${e.message}`);
    });
    expect(problems).toEqual([]);
  });
});

describe("the Ouro JupyterLab extension in a real browser", () => {
  let t: TestOuro;
  let ouroPort: number;
  let jupyter: ChildProcess;
  let base: string; // http://127.0.0.1:<port>/
  const jupyterToken = randomBytes(16).toString("hex");
  let jupyterHome: string | undefined;
  let browser: Browser;
  let page: Page;
  let projectId: string;
  let datasetVersionId: string;
  let seededRunId: string;
  let recipeId: string;
  let trainedRunId: string;
  let liveRunId: string;
  const shots = new Screenshots(path.join(ROOT, "test-output/ui"));

  async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await t.gql(query, variables, t.adminToken);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return r.data as T;
  }

  const shot = (name: string) => shots.take(page, name);

  const sidebar = () => page.locator("#ouro-sidebar");
  const treeNode = (kind: string, id: string) => sidebar().locator(`[data-ouro-kind="${kind}"][data-ouro-id="${id}"]`);
  const panel = (kind: string, id: string) => page.locator(`.ouro-panel[data-ouro-kind="${kind}"][data-ouro-id="${id}"]`);
  const chartPoints = async (runId: string, key: string) => Number((await panel("run", runId).locator(`[data-ouro-metric="${key}"]`).getAttribute("data-ouro-points")) ?? 0);

  beforeAll(async () => {
    requireUiTools();
    await shots.reset();
    ouroPort = await freePort();
    t = await startOuroOn(ouroPort, "jupyter-ui");

    // Seed through the API: a project, a profiled dataset, a finished run and a running one.
    projectId = await createProject(t, "ui-demo");
    const ingest = await gql(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } });
    const ingested = await waitForJob(t, ingest.ingestDataset.id);
    expect(ingested.status, ingested.error).toBe("succeeded");
    datasetVersionId = ingested.result.versionId;
    const profiled = await waitForJob(t, (await gql(`mutation($v: ID!) { profileDataset(versionId: $v) { id } }`, { v: datasetVersionId })).profileDataset.id);
    expect(profiled.status, profiled.error).toBe("succeeded");
    // A fitted recipe, as a notebook would make: penguins has text columns and missing values.
    const recipe = await gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "penguin inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [
        { op: "drop", columns: ["Sex"] },
        { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
        { op: "oneHot", column: "Island" },
      ],
    });
    recipeId = recipe.createRecipe.id;
    const fitted = await waitForJob(t, (await gql(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipeId, v: datasetVersionId })).fitRecipe.id);
    expect(fitted.status, fitted.error).toBe("succeeded");
    const startRun = `mutation($p: ID!, $n: String!) { startRun(input: { projectId: $p, experiment: "baseline", name: $n }) { id } }`;
    seededRunId = (await gql(startRun, { p: projectId, n: "seeded-run" })).startRun.id;
    await gql(`mutation($r: ID!, $p: [ParamInput!]!) { logParams(runId: $r, params: $p) { key } }`, { r: seededRunId, p: [{ key: "lr", value: "0.01" }, { key: "layers", value: "2" }] });
    await gql(`mutation($r: ID!, $m: [MetricInput!]!) { logMetrics(runId: $r, points: $m) { accepted } }`, { r: seededRunId, m: points("loss", 0, 20) });
    await gql(`mutation($r: ID!) { finishRun(runId: $r) { id } }`, { r: seededRunId });
    liveRunId = (await gql(startRun, { p: projectId, n: "live-run" })).startRun.id;
    await gql(`mutation($r: ID!, $m: [MetricInput!]!) { logMetrics(runId: $r, points: $m) { accepted } }`, { r: liveRunId, m: points("loss", 0, 10) });

    const lab = await startJupyterLab({ OURO_URL: `http://127.0.0.1:${ouroPort}`, OURO_TOKEN: t.adminToken, OURO_ALLOW_URL_CHANGE: "1" }, jupyterToken);
    jupyter = lab.proc;
    base = lab.base;
    jupyterHome = lab.home;

    ({ browser, page } = await launchBrowser());
  }, 300_000);

  // A failing step leaves a picture of what the browser showed.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && page) await shot(`FAILED-${ctx.task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    if (jupyter) await stopProcess(jupyter);
    if (jupyterHome) await rm(jupyterHome, { recursive: true, force: true });
    await t?.stop();
    shots.report();
  }, 60_000);

  it("the proxy needs a Jupyter login and XSRF, and keeps the Ouro token on the server", async () => {
    // No Jupyter credentials at all: refused, for every endpoint.
    expect((await fetch(`${base}ouro/version`)).status).toBe(403);
    expect((await fetch(`${base}ouro/graphql`, { method: "POST", body: JSON.stringify({ query: "{ viewer { email } }" }) })).status).toBe(403);
    const ws = await new Promise<number>((resolve) => {
      const sock = new WebSocket(`${base.replace("http", "ws")}ouro/graphql-ws`, "graphql-transport-ws");
      sock.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      sock.on("open", () => resolve(101));
      sock.on("error", () => resolve(-1));
    });
    expect(ws).toBe(403);

    // The handshake: same version as the frontend, configured, and no token in it.
    const auth = { authorization: `token ${jupyterToken}` };
    const version = (await (await fetch(`${base}ouro/version`, { headers: auth })).json()) as { url: string };
    const pkg = JSON.parse(await readFile(path.join(EXT, "package.json"), "utf8"));
    expect(version).toEqual({ version: pkg.version, url: `http://127.0.0.1:${ouroPort}/graphql`, tokenConfigured: true, urlChangeAllowed: true });
    expect(JSON.stringify(version)).not.toContain(t.adminToken);

    // A GraphQL request without any Ouro token goes through: the proxy adds it.
    const viewer = await (await fetch(`${base}ouro/graphql`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ query: "{ viewer { isAdmin } }" }) })).json();
    expect(viewer).toEqual({ data: { viewer: { isAdmin: true } } });

    // A bad URL in the config endpoint is refused and changes nothing.
    const bad = await fetch(`${base}ouro/config`, { method: "PUT", headers: auth, body: JSON.stringify({ url: "file:///etc/passwd" }) });
    expect(bad.status).toBe(400);
    expect(((await (await fetch(`${base}ouro/version`, { headers: auth })).json()) as { url: string }).url).toBe(version.url);

    // In the browser (cookie login): a POST without the XSRF header is refused.
    await page.goto(`${base}lab/tree/ui.ipynb?token=${jupyterToken}`);
    await page.locator("#ouro-sidebar").waitFor({ state: "attached", timeout: 60_000 });
    // JupyterLab brings the notebook to the front once it has loaded (late on a busy machine):
    // wait for it, or it could cover the views the next tests open.
    await page.locator(".jp-NotebookPanel").first().waitFor({ timeout: 60_000 });
    const statusWithoutXsrf = await page.evaluate(async (url) => (await fetch(url, { method: "POST", body: "{}", credentials: "same-origin" })).status, `${base}ouro/graphql`);
    expect(statusWithoutXsrf).toBe(403);
  }, 120_000);

  it("opens the Ouro sidebar and shows the seeded project tree", async () => {
    await page.locator('.lm-TabBar-tab[data-id="ouro-sidebar"]').click();
    await expect.poll(() => sidebar().locator(".ouro-project-select option:checked").textContent(), { timeout: 30_000 }).toBe("ui-demo");
    await treeNode("run", seededRunId).waitFor({ timeout: 30_000 });
    await expect.poll(() => sidebar().locator('[data-ouro-kind="dataset"] .ouro-node-label').allTextContents()).toEqual(["penguins"]);
    expect(await sidebar().locator('[data-ouro-kind="dataset"] .ouro-node-meta').textContent()).toBe("v1 · 344 rows");
    expect(await treeNode("run", seededRunId).locator(".ouro-badge").textContent()).toBe("finished");
    expect(await treeNode("run", liveRunId).locator(".ouro-badge").textContent()).toBe("running");
    await shot("sidebar-project-tree");
  }, 90_000);

  it("opens a run: params and its metric chart", async () => {
    await treeNode("run", seededRunId).click();
    const view = panel("run", seededRunId);
    // The chart is drawn as soon as its points arrive over the subscription.
    await view.locator('[data-ouro-metric="loss"] canvas').waitFor({ state: "attached", timeout: 30_000 });
    await expect.poll(() => chartPoints(seededRunId, "loss"), { timeout: 45_000 }).toBe(20);
    expect(await view.locator(".ouro-params td").allTextContents()).toEqual(["layers", "2", "lr", "0.01"]);
    expect(await view.locator(".ouro-badge").textContent()).toBe("finished");
    await shot("run-view");
  }, 120_000);

  it("opens the dataset: schema, preview and profile histograms", async () => {
    await sidebar().locator('[data-ouro-kind="dataset"]').click();
    const view = page.locator('.ouro-panel[data-ouro-kind="dataset"]');
    await view.locator(".ouro-profile-col").first().waitFor({ timeout: 30_000 });
    const columns = await view.locator(".ouro-profile-col .ouro-profile-name").allTextContents();
    expect(columns).toContain("Beak Length (mm)");
    expect(columns).toContain("Species");
    // A numeric column has a histogram whose bars are drawn.
    expect(await view.locator('[data-ouro-column="Body Mass (g)"] .ouro-bar').count()).toBeGreaterThan(5);
    expect(await view.locator(".ouro-preview tbody tr").count()).toBe(20);
    await shot("dataset-view");
  }, 60_000);

  it("starts a training job from the dataset and the run's chart gains points live", async () => {
    const view = page.locator('.ouro-panel[data-ouro-kind="dataset"]');
    await view.locator('[data-ouro-action="train"]').click();
    const dialog = page.locator(".jp-Dialog");
    await dialog.locator('select[name="target"]').selectOption("Species");
    await dialog.locator('select[name="task"]').selectOption("multiclass");
    await dialog.locator('select[name="recipe"]').selectOption(recipeId);
    await dialog.locator('input[name="epochs"]').fill("60");
    await dialog.locator('input[name="runName"]').fill("ui-training");
    await shot("train-dialog");
    await dialog.locator("button.jp-mod-accept").click();

    const runView = page.locator('.ouro-panel[data-ouro-kind="run"]').filter({ has: page.locator("strong", { hasText: "ui-training" }) });
    await runView.waitFor({ timeout: 30_000 });
    const runId = (await runView.getAttribute("data-ouro-id"))!;
    trainedRunId = runId;
    // Sample the point count while the job runs: it must grow without any reload.
    const seen: number[] = [];
    let midShot = false;
    const deadline = Date.now() + 180_000;
    for (;;) {
      const n = (await runView.locator('[data-ouro-metric="loss"]').count()) ? await chartPoints(runId, "loss") : 0;
      if (seen[seen.length - 1] !== n) seen.push(n);
      if (!midShot && n > 0 && n < 60) {
        await shot("training-live-chart");
        midShot = true;
      }
      const status = await runView.getAttribute("data-ouro-run-status");
      if (status === "failed" || status === "killed") throw new Error(`training failed: ${await runView.locator(".ouro-meta").textContent()}`);
      if (n >= 60 || Date.now() > deadline) break;
      await page.waitForTimeout(150);
    }
    expect(seen[seen.length - 1]).toBe(60);
    // The chart was drawn from a stream: it showed fewer points before it showed them all.
    expect(seen.length, `point counts seen: ${seen.join(", ")}`).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    await expect.poll(() => runView.getAttribute("data-ouro-run-status"), { timeout: 60_000 }).toBe("finished");
    // The tree learnt about the job and its run through the live audit stream.
    await expect.poll(() => sidebar().locator('[data-ouro-kind="job"] .ouro-node-label', { hasText: "models.train" }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await treeNode("run", runId).waitFor({ timeout: 30_000 });
    await shot("training-finished");
  }, 240_000);

  it("deploys a registered model version from the model view, after confirmation", async () => {
    const registered = await gql(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguin-species" }) { id modelId version } }`, { r: trainedRunId });
    const modelId = registered.registerModelVersion.modelId;
    await treeNode("model", modelId).waitFor({ timeout: 30_000 });
    await treeNode("model", modelId).click();
    const view = panel("model", modelId);
    await view.locator('[data-ouro-action="deploy"]').click();
    const dialog = page.locator(".jp-Dialog");
    await dialog.locator("input").fill("penguins-live");
    await dialog.locator("button.jp-mod-accept").click();
    await expect.poll(() => page.locator(".jp-Dialog .jp-Dialog-body").textContent()).toContain('Serve penguin-species v1 as "penguins-live"?');
    await shot("deploy-confirmation");
    await page.locator(".jp-Dialog button.jp-mod-accept").click();

    const deployment = page.locator('.ouro-panel[data-ouro-kind="deployment"]');
    await deployment.locator(".ouro-table td", { hasText: "100%" }).waitFor({ timeout: 30_000 });
    expect(await deployment.locator(".ouro-title strong").textContent()).toBe("penguins-live");
    // The route's model version by name; its id in the title.
    const primary = deployment.locator('tr[data-ouro-route="primary"] td').nth(2);
    expect(await primary.textContent()).toBe("penguin-species v1");
    expect(await primary.locator("[title]").getAttribute("title")).toBe(registered.registerModelVersion.id);
    const deploymentId = (await deployment.getAttribute("data-ouro-id"))!;
    await treeNode("deployment", deploymentId).waitFor({ timeout: 30_000 });
    await deployment.locator('.ouro-message[data-level="live"]').waitFor({ timeout: 30_000 });
    // Traffic through the REST hot path shows up in the panel's live numbers.
    const penguins = JSON.parse(await readFile(path.join(DATA, "penguins.json"), "utf8")) as Record<string, unknown>[];
    const rows = penguins.slice(0, 25).map(({ Species: _species, ...inputs }) => inputs);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${t.url.replace(/\/graphql$/, "")}/v1/endpoints/penguins-live/predict`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ rows }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    await expect.poll(() => deployment.locator(".ouro-message").textContent(), { timeout: 30_000 }).toMatch(/Live · 100 predictions in the last 60 s/);
    await shot("deployment-view");
  }, 120_000);

  it("cancels a running job after confirmation", async () => {
    const job = await gql(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, {
      i: { projectId, datasetVersionId, target: "Species", task: "multiclass", runName: "to-cancel", recipeId, model: { kind: "mlp", epochs: 5000, layers: [64, 64] } },
    });
    const jobId = job.trainModel.id;
    const row = treeNode("job", jobId);
    await row.locator('[data-ouro-action="cancel-job"]').waitFor({ timeout: 30_000 });
    await row.locator('[data-ouro-action="cancel-job"]').click();
    const dialog = page.locator(".jp-Dialog");
    await expect.poll(() => dialog.locator(".jp-Dialog-body").textContent()).toContain(jobId);
    await shot("cancel-confirmation");
    await dialog.locator("button.jp-mod-accept").click();
    const done = await waitForJob(t, jobId, 60_000);
    expect(done.status).toBe("cancelled");
    await expect.poll(() => treeNode("job", jobId).locator(".ouro-badge").textContent(), { timeout: 30_000 }).toBe("cancelled");
  }, 120_000);

  it("inserts a Python snippet for the selected run into the notebook", async () => {
    await treeNode("run", seededRunId).click();
    await sidebar().locator('[data-ouro-action="snippet"]').click();
    const cells = page.locator(".jp-NotebookPanel .jp-Cell .cm-content");
    await expect.poll(() => cells.count(), { timeout: 30_000 }).toBe(2);
    const code = await cells.nth(1).innerText();
    expect(code).toContain("from ouro import Ouro");
    expect(code).toContain(`ouro.runs.get("${seededRunId}")`);
    await shot("snippet-in-notebook");
  }, 60_000);

  it("says clearly when the Ouro URL is wrong, and recovers", async () => {
    const auth = { authorization: `token ${jupyterToken}` };
    const closed = await freePort();
    const put = await fetch(`${base}ouro/config`, { method: "PUT", headers: auth, body: JSON.stringify({ url: `http://127.0.0.1:${closed}` }) });
    expect(put.status).toBe(200);
    try {
      await sidebar().locator('[data-ouro-action="refresh"]').click();
      const error = sidebar().locator(".ouro-error");
      await error.waitFor({ timeout: 30_000 }).catch(async (err) => {
        throw new Error(`no error shown; the sidebar says: ${await sidebar().innerText()}`, { cause: err });
      });
      expect(await error.getAttribute("data-ouro-error")).toBe("connect");
      expect(await error.textContent()).toContain(`Cannot reach the Ouro server at http://127.0.0.1:${closed}/graphql`);
      await shot("wrong-url-message");
    } finally {
      await fetch(`${base}ouro/config`, { method: "PUT", headers: auth, body: JSON.stringify({ url: "" }) });
    }
    await sidebar().locator('[data-ouro-action="retry"]').click();
    await treeNode("run", seededRunId).waitFor({ timeout: 30_000 });
  }, 60_000);

  it("keeps a run's chart live across an Ouro restart, without losing or repeating points", async () => {
    await treeNode("run", liveRunId).click();
    await expect.poll(() => chartPoints(liveRunId, "loss"), { timeout: 30_000 }).toBe(10);
    const view = panel("run", liveRunId);
    const databaseUrl = t.databaseUrl;
    const token = t.adminToken;
    await t.stop();
    await expect.poll(() => view.locator(".ouro-message").textContent(), { timeout: 30_000 }).toContain("reconnecting");
    expect(await view.locator(".ouro-message").getAttribute("data-level")).toBe("error");
    await shot("server-gone-reconnecting");

    t = { ...(await startOuroOn(ouroPort, "jupyter-ui", databaseUrl)), adminToken: token };
    // Points 5..14: five already shown, five new; the chart must end with 15, not 20.
    await gql(`mutation($r: ID!, $m: [MetricInput!]!) { logMetrics(runId: $r, points: $m) { accepted } }`, { r: liveRunId, m: points("loss", 5, 10) });
    await expect.poll(() => chartPoints(liveRunId, "loss"), { timeout: 60_000 }).toBe(15);
    await expect.poll(() => view.locator(".ouro-message").getAttribute("data-level"), { timeout: 30_000 }).toBe("live");
    await shot("server-back-live");
  }, 150_000);

  it("says clearly when Ouro refuses the Jupyter server's token", async () => {
    const lab = await startJupyterLab({ OURO_URL: `http://127.0.0.1:${ouroPort}`, OURO_TOKEN: "ouro_not-a-real-token" }, jupyterToken);
    const other = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await other.goto(`${lab.base}lab?token=${jupyterToken}`);
      await other.locator('.lm-TabBar-tab[data-id="ouro-sidebar"]').click({ timeout: 60_000 });
      const error = other.locator("#ouro-sidebar .ouro-error");
      await error.waitFor({ timeout: 30_000 });
      expect(await error.getAttribute("data-ouro-error")).toBe("connect");
      expect(await error.textContent()).toMatch(/^Ouro refused the token this Jupyter server uses: .*set OURO_TOKEN and restart JupyterLab/);
      // The page never saw the token, good or bad.
      expect(await other.content()).not.toContain("ouro_not-a-real-token");
      await shots.take(other, "bad-token-message");
    } finally {
      await other.close();
      await stopProcess(lab.proc);
      await rm(lab.home, { recursive: true, force: true });
    }
  }, 150_000);

  it("a panel whose run was deleted says so instead of going blank", async () => {
    const doomed = (await gql(`mutation($p: ID!) { startRun(input: { projectId: $p, experiment: "baseline", name: "doomed-run" }) { id } }`, { p: projectId })).startRun.id;
    await treeNode("run", doomed).waitFor({ timeout: 30_000 });
    await treeNode("run", doomed).click();
    const view = panel("run", doomed);
    await view.locator(".ouro-params").waitFor({ timeout: 30_000 });
    await t.app.db.query("DELETE FROM runs WHERE id = $1", [doomed]);
    const gone = view.locator('[data-ouro-error="not-found"]');
    await gone.waitFor({ timeout: 30_000 });
    expect(await gone.textContent()).toMatch(/^Run doomed-run was not found: it was deleted/);
    await shot("deleted-run");
  }, 90_000);
});
