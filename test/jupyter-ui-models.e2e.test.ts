import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DATA, UiSession } from "./helpers/jupyter";
import { createProject, waitForJob } from "./helpers/ouro";

/**
 * The model and deployment views in a real JupyterLab and chromium, against a real Ouro with a
 * worker: a model version's lineage (and opening what it names), a hyperparameter search
 * launched from the dataset view, a deployment's live numbers from the deploymentStats
 * subscription (and no polling while it is up), and canary → promote, canary → roll back.
 * Every action is checked on the server, not only on screen. Screenshots: test-output/ui-models/.
 */
describe("model lineage, hyperparameter search and canary rollouts in JupyterLab", () => {
  const ui = new UiSession("ui-models");
  let projectId: string;
  let datasetId: string;
  let datasetVersionId: string;
  let recipeId: string;
  let modelId: string;
  const versions: { id: string; runId: string }[] = [];
  let deploymentId: string;
  /** GraphQL requests the page sent for deploymentStatsNow (the polling fallback). */
  let pollRequests = 0;

  const deployment = async () =>
    (await ui.gql(`query($id: ID!) { deployment(id: $id) { revision routes { name weight modelVersionIds } rollout { status mode canaryWeight } } }`, { id: deploymentId })).deployment as {
      revision: number;
      routes: { name: string; weight: number; modelVersionIds: string[] }[];
      rollout: { status: string; mode: string; canaryWeight: number } | null;
    };

  /** Trains a small model on the penguins through the API and registers it; returns the version. */
  async function trainAndRegister(runName: string, model: Record<string, unknown>): Promise<{ id: string; runId: string }> {
    const job = await ui.gql(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, {
      i: { projectId, datasetVersionId, target: "Species", task: "multiclass", recipeId, runName, model },
    });
    const done = await waitForJob(ui.t, job.trainModel.id, 180_000);
    expect(done.status, done.error).toBe("succeeded");
    const runId = done.result.runId as string;
    const registered = await ui.gql(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguin-species" }) { id modelId version } }`, { r: runId });
    modelId = registered.registerModelVersion.modelId;
    return { id: registered.registerModelVersion.id, runId };
  }

  /**
   * Brings a panel's tab to the front. The harness opens ui.ipynb, and when the notebook
   * finishes loading after a panel was opened it takes the front; our panels' tabs carry
   * data-id="ouro-view-<kind>-<id>" (index.ts).
   */
  async function front(kind: string, id: string) {
    const tab = ui.page.locator(`.lm-TabBar-tab[data-id="ouro-view-${kind}-${id}"]`);
    await tab.waitFor({ timeout: 30_000 });
    await tab.click();
    await ui.panel(kind, id).waitFor({ state: "visible", timeout: 15_000 });
    return ui.panel(kind, id);
  }

  async function predict(rows: Record<string, unknown>[]): Promise<void> {
    const res = await fetch(`${ui.t.url.replace(/\/graphql$/, "")}/v1/endpoints/penguins-canary/predict`, {
      method: "POST",
      headers: { authorization: `Bearer ${ui.t.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ rows }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }

  beforeAll(async () => {
    await ui.startOuro();
    // Seed: the penguins, a fitted recipe, two trained and registered versions, a deployment of v1.
    projectId = await createProject(ui.t, "ui-models");
    const ingest = await ui.gql(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } });
    const ingested = await waitForJob(ui.t, ingest.ingestDataset.id);
    expect(ingested.status, ingested.error).toBe("succeeded");
    datasetVersionId = ingested.result.versionId;
    datasetId = (await ui.gql(`query($id: ID!) { datasetVersion(id: $id) { datasetId } }`, { id: datasetVersionId })).datasetVersion.datasetId;
    recipeId = (
      await ui.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "penguin inputs", steps: $s) { id } }`, {
        p: projectId,
        s: [
          { op: "drop", columns: ["Sex"] },
          { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
          { op: "oneHot", column: "Island" },
        ],
      })
    ).createRecipe.id;
    const fitted = await waitForJob(ui.t, (await ui.gql(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipeId, v: datasetVersionId })).fitRecipe.id);
    expect(fitted.status, fitted.error).toBe("succeeded");
    versions.push(await trainAndRegister("train-v1", { kind: "mlp", layers: [8], epochs: 15 }));
    versions.push(await trainAndRegister("train-v2", { kind: "logistic", epochs: 20 }));
    deploymentId = (await ui.gql(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, { i: { projectId, name: "penguins-canary", modelVersionId: versions[0].id } })).deployModel.id;

    await ui.openLab("ui-models");
    // Let the harness's notebook finish opening first, so it does not take the front later.
    await ui.page.locator(".jp-NotebookPanel .jp-Cell").first().waitFor({ timeout: 60_000 });
    ui.page.on("request", (req) => {
      if (req.url().includes("/ouro/graphql") && (req.postData() ?? "").includes("deploymentStatsNow")) pollRequests++;
    });
  }, 600_000);

  afterEach((ctx) => ui.shotIfFailed(ctx));
  afterAll(() => ui.stop(), 60_000);

  it("shows a version's lineage, and its dataset and run open from it", async () => {
    await ui.treeNode("model", modelId).waitFor({ timeout: 30_000 });
    await ui.treeNode("model", modelId).click();
    const view = await front("model", modelId);
    // Newest first: v2 is selected when the view opens; pick v1, the deployed one.
    await view.locator(`tr[data-ouro-version-id="${versions[0].id}"] [data-ouro-action="lineage"]`).click();
    const lineage = view.locator(`[data-ouro-lineage="${versions[0].id}"]`);
    await lineage.waitFor({ timeout: 30_000 });
    expect(await view.locator(`tr[data-ouro-version-id="${versions[0].id}"]`).getAttribute("class")).toContain("ouro-row-selected");

    // What the graph shows is what the server records for v1: its training data, recipe, run and deployment.
    const node = (kind: string, id: string) => lineage.locator(`[data-ouro-lineage-kind="${kind}"][data-ouro-lineage-id="${id}"]`);
    await node("modelVersion", versions[0].id).waitFor();
    expect(await node("datasetVersion", datasetVersionId).count()).toBe(1);
    expect(await node("recipe", recipeId).count()).toBe(1);
    expect(await node("run", versions[0].runId).count()).toBe(1);
    expect(await node("deployment", deploymentId).count()).toBe(1);
    // v2's run is a sibling (same dataset), not an ancestor of v1: it is left out.
    expect(await node("run", versions[1].runId).count()).toBe(0);
    expect(await lineage.locator('[data-ouro-relation="trainedOn"]').count()).toBe(1);
    expect(await lineage.locator('[data-ouro-relation="registered"]').count()).toBe(1);
    expect(await lineage.locator('[data-ouro-relation="serves"]').count()).toBe(1);
    await ui.shot("model-lineage");

    await node("run", versions[0].runId).click();
    await ui.panel("run", versions[0].runId).locator(".ouro-title strong", { hasText: "train-v1" }).waitFor({ timeout: 30_000 });
    await front("model", modelId);
    await node("datasetVersion", datasetVersionId).click();
    await ui.panel("dataset", datasetId).locator(".ouro-title strong", { hasText: "penguins" }).waitFor({ timeout: 30_000 });
    await ui.shot("lineage-opened-dataset");
  }, 120_000);

  it("launches a hyperparameter search from the dataset view after confirmation; its trials run on the server", async () => {
    const view = await front("dataset", datasetId);
    await view.locator('[data-ouro-action="search"]').click();
    const dialog = ui.page.locator(".jp-Dialog");
    await dialog.locator('select[name="target"]').selectOption("Species");
    await dialog.locator('select[name="task"]').selectOption("multiclass");
    await dialog.locator('select[name="kind"]').selectOption("mlp");
    await dialog.locator('select[name="recipe"]').selectOption(recipeId);
    await dialog.locator('select[name="preset"]').selectOption("learningRateLayers");
    await dialog.locator('input[name="trials"]').fill("3");
    await dialog.locator('input[name="epochs"]').fill("6");
    await dialog.locator('input[name="runName"]').fill("ui-search");
    await ui.shot("search-form");
    await dialog.locator("button.jp-mod-accept").click();
    // The confirmation says what will be trained; nothing has started yet.
    await expect.poll(() => ui.page.locator(".jp-Dialog .jp-Dialog-body").textContent()).toContain("Train 3 mlp model(s) of 6 epochs");
    expect((await ui.gql(`query($p: ID!) { jobs(projectId: $p, first: 50) { nodes { kind } } }`, { p: projectId })).jobs.nodes.filter((j: { kind: string }) => j.kind === "models.search")).toHaveLength(0);
    await ui.shot("search-confirmation");
    await ui.confirm();

    // On the server: one search job, whose run has three trial runs.
    const jobs = async () => (await ui.gql(`query($p: ID!) { jobs(projectId: $p, first: 50) { nodes { id kind } } }`, { p: projectId })).jobs.nodes.filter((j: { kind: string }) => j.kind === "models.search");
    await expect.poll(async () => (await jobs()).length, { timeout: 30_000 }).toBe(1);
    const [job] = await jobs();
    const done = await waitForJob(ui.t, job.id, 240_000);
    expect(done.status, done.error).toBe("succeeded");
    expect(done.result.trials).toHaveLength(3);
    const runs = (await ui.gql(`query($p: ID!) { runs(projectId: $p, experiment: "search", first: 50) { nodes { id name parentRunId } } }`, { p: projectId })).runs.nodes as { id: string; name: string; parentRunId: string | null }[];
    const parent = runs.find((r) => r.name === "ui-search")!;
    expect(parent).toBeTruthy();
    const trials = runs.filter((r) => r.parentRunId === parent.id);
    expect(trials.map((r) => r.id).sort()).toEqual(done.result.trials.map((t: { runId: string }) => t.runId).sort());

    // In the UI: the search's run opened, and the tree shows the job.
    await ui.panel("run", parent.id).waitFor({ timeout: 30_000 });
    await ui.treeNode("job", job.id).waitFor({ timeout: 30_000 });
    await expect.poll(() => ui.treeNode("job", job.id).locator(".ouro-badge").textContent(), { timeout: 30_000 }).toBe("succeeded");

    // The trials sit under the search's run, folded away until asked for.
    const toggle = ui.treeNode("run", parent.id).locator('[data-ouro-action="toggle-trials"]');
    await expect.poll(() => ui.treeNode("run", parent.id).locator(".ouro-child-count").textContent(), { timeout: 30_000 }).toBe("3 trials");
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    const nested = ui.sidebar().locator(`[data-ouro-trials-of="${parent.id}"]`);
    for (const trial of trials) expect(await nested.locator(`[data-ouro-kind="run"][data-ouro-id="${trial.id}"]`).count()).toBe(1);
    expect(await nested.isVisible()).toBe(false);
    await toggle.click();
    for (const trial of trials) await ui.treeNode("run", trial.id).waitFor({ timeout: 15_000 });
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");

    // Each trial row shows the params the search varied and the score the search gave it (a
    // trial stopped early has no model params: training records them when it ends).
    const params = async (id: string) => (await ui.gql(`query($id: ID!) { run(id: $id) { params { key value } } }`, { id })).run.params as { key: string; value: string }[];
    const trialParams = new Map(await Promise.all(trials.map(async (t) => [t.id, new Map((await params(t.id)).map((p) => [p.key, p.value]))] as const)));
    const keys = [...new Set([...trialParams.values()].flatMap((m) => [...m.keys()]))].filter(
      (k) => !["trial", "search"].includes(k) && new Set([...trialParams.values()].flatMap((m) => (m.has(k) ? [m.get(k)] : []))).size > 1,
    );
    expect(keys.some((k) => k.endsWith("learningRate"))).toBe(true);
    for (const r of done.result.trials as { runId: string; score: number | null }[]) {
      const row = ui.treeNode("run", r.runId);
      await expect.poll(() => row.getAttribute("data-ouro-params"), { timeout: 30_000 }).not.toBeNull();
      const shown = keys.filter((k) => trialParams.get(r.runId)!.has(k));
      expect(JSON.parse((await row.getAttribute("data-ouro-params"))!)).toEqual(Object.fromEntries(shown.map((k) => [k, trialParams.get(r.runId)!.get(k)])));
      expect(await row.getAttribute("data-ouro-score")).toBe(r.score === null ? null : String(r.score));
      const text = (await row.locator(".ouro-trial-meta").textContent())!;
      for (const k of shown) expect(text).toContain(`${k.slice(k.lastIndexOf(".") + 1)}=`);
      if (r.score !== null) expect(text).toContain("val_loss ");
    }
    expect(await ui.treeNode("run", done.result.bestRunId).locator(".ouro-best").count()).toBe(1);
    expect(await nested.locator(".ouro-best").count()).toBe(1);
    await ui.shot("search-finished");

    // A trial opens like any other run: its params in the run view.
    const finished = trials.find((t) => [...trialParams.get(t.id)!.keys()].some((k) => k.endsWith("learningRate")))!;
    await ui.treeNode("run", finished.id).locator(".ouro-node-label").click();
    await ui.panel("run", finished.id).locator(".ouro-params td", { hasText: /learningRate$/ }).waitFor({ timeout: 30_000 });
  }, 360_000);

  it("the deployment view is live from the deploymentStats subscription, with no polling", async () => {
    await ui.treeNode("deployment", deploymentId).click();
    const view = await front("deployment", deploymentId);
    await expect.poll(() => view.getAttribute("data-ouro-stats-source"), { timeout: 30_000 }).toBe("subscription");
    const chartPoints = async () => Number((await view.locator('[data-ouro-metric="rows/s (last 60 s)"]').getAttribute("data-ouro-points")) ?? 0);
    const before = await chartPoints();
    const penguins = JSON.parse(await readFile(path.join(DATA, "penguins.json"), "utf8")) as Record<string, unknown>[];
    const rows = penguins.slice(0, 20).map(({ Species: _species, ...inputs }) => inputs);
    for (let i = 0; i < 3; i++) {
      await predict(rows);
      await ui.page.waitForTimeout(1500);
    }
    // New samples arrive while predictions are sent, and they count them.
    await expect.poll(chartPoints, { timeout: 30_000 }).toBeGreaterThan(before + 1);
    await expect.poll(() => view.locator(".ouro-message").textContent(), { timeout: 30_000 }).toMatch(/^Live · 60 predictions in the last 60 s$/);
    expect(await view.locator('tr[data-ouro-route="primary"] td').nth(4).textContent()).toBe("60");
    expect(await view.locator(".ouro-message").getAttribute("data-level")).toBe("live");
    expect(pollRequests).toBe(0);
    await ui.shot("deployment-live");
  }, 120_000);

  it("refuses a canary share outside 1–99% with a clear message, changing nothing", async () => {
    const view = await front("deployment", deploymentId);
    const revision = (await deployment()).revision;
    await view.locator('[data-ouro-action="canary"]').click();
    const dialog = ui.page.locator(".jp-Dialog");
    await dialog.locator('input[name="percent"]').fill("150");
    await dialog.locator("button.jp-mod-accept").click();
    await expect.poll(() => ui.page.locator(".jp-Dialog .jp-Dialog-body").textContent()).toContain("percentage between 1 and 99");
    await ui.shot("canary-refused");
    await ui.page.locator(".jp-Dialog button", { hasText: "Close" }).click();
    await ui.page.locator(".jp-Dialog").waitFor({ state: "detached" });
    const d = await deployment();
    expect(d.revision).toBe(revision);
    expect(d.routes).toHaveLength(1);
  }, 60_000);

  it("starts a canary of v2 at 25%, then promotes it", async () => {
    const view = await front("deployment", deploymentId);
    await view.locator('[data-ouro-action="canary"]').click();
    const dialog = ui.page.locator(".jp-Dialog");
    await dialog.locator('select[name="version"]').selectOption(versions[1].id);
    await dialog.locator('input[name="percent"]').fill("25");
    await dialog.locator('select[name="mode"]').selectOption("manual");
    await ui.shot("canary-form");
    await dialog.locator("button.jp-mod-accept").click();
    await expect.poll(() => ui.page.locator(".jp-Dialog .jp-Dialog-body").textContent()).toContain("Send 25% of penguins-canary's traffic to penguin-species v2; penguin-species v1 keeps 75%");
    await ui.confirm();

    // The server: two routes, the challenger (v2) at the chosen weight.
    await expect.poll(async () => (await deployment()).routes.length, { timeout: 15_000 }).toBe(2);
    const d = await deployment();
    expect(d.rollout).toMatchObject({ status: "running", mode: "manual", canaryWeight: 0.25 });
    const challenger = d.routes.find((r) => r.name === "challenger")!;
    expect(challenger.modelVersionIds).toEqual([versions[1].id]);
    expect(challenger.weight).toBeCloseTo(0.25);
    expect(d.routes.find((r) => r.name !== "challenger")!.modelVersionIds).toEqual([versions[0].id]);
    // The view shows the same split.
    await expect.poll(() => view.locator('tr[data-ouro-route="challenger"] td').nth(1).textContent(), { timeout: 15_000 }).toBe("25%");
    expect(await view.locator('tr[data-ouro-route="challenger"] td').nth(2).textContent()).toBe("penguin-species v2");
    expect(await view.locator(".ouro-rollout").getAttribute("data-ouro-rollout-status")).toBe("running");
    await ui.shot("canary-running");

    await view.locator('[data-ouro-action="promote"]').click();
    await expect.poll(() => ui.page.locator(".jp-Dialog .jp-Dialog-body").textContent()).toContain("Send all of penguins-canary's traffic to penguin-species v2");
    await ui.shot("promote-confirmation");
    await ui.confirm();
    await expect.poll(async () => (await deployment()).routes, { timeout: 15_000 }).toEqual([{ name: "primary", weight: 1, modelVersionIds: [versions[1].id] }]);
    expect((await deployment()).rollout?.status).toBe("promoted");
    await expect.poll(() => view.locator('tr[data-ouro-route="primary"] td').nth(2).textContent(), { timeout: 15_000 }).toBe("penguin-species v2");
    expect(await view.locator('tr[data-ouro-route="primary"] td').nth(1).textContent()).toBe("100%");
    expect(await view.locator(".ouro-routes tbody tr").count()).toBe(1);
    await ui.shot("promoted");
  }, 90_000);

  it("rolls back a second canary to the production version", async () => {
    const view = await front("deployment", deploymentId);
    await view.locator('[data-ouro-action="canary"]').click();
    const dialog = ui.page.locator(".jp-Dialog");
    // v2 serves now: the only challenger offered is v1.
    expect(await dialog.locator('select[name="version"] option').evaluateAll((opts) => opts.map((o) => (o as unknown as { value: string }).value))).toEqual([versions[0].id]);
    await dialog.locator('input[name="percent"]').fill("10");
    await dialog.locator("button.jp-mod-accept").click();
    await ui.confirm();
    await expect.poll(async () => (await deployment()).routes.length, { timeout: 15_000 }).toBe(2);
    await expect.poll(() => view.locator('tr[data-ouro-route="challenger"] td').nth(1).textContent(), { timeout: 15_000 }).toBe("10%");

    await view.locator('[data-ouro-action="rollback"]').click();
    await expect.poll(() => ui.page.locator(".jp-Dialog .jp-Dialog-body").textContent()).toContain("Send all of penguins-canary's traffic back to penguin-species v2");
    await ui.shot("rollback-confirmation");
    await ui.confirm();
    await expect.poll(async () => (await deployment()).routes, { timeout: 15_000 }).toEqual([{ name: "primary", weight: 1, modelVersionIds: [versions[1].id] }]);
    expect((await deployment()).rollout?.status).toBe("rolledBack");
    await expect.poll(() => view.locator(".ouro-routes tbody tr").count(), { timeout: 15_000 }).toBe(1);
    expect(await view.locator('tr[data-ouro-route="primary"] td').nth(2).textContent()).toBe("penguin-species v2");
    await view.locator('[data-ouro-action="canary"]').waitFor();
    // Through all of it the numbers came from the subscription alone.
    expect(await view.getAttribute("data-ouro-stats-source")).toBe("subscription");
    expect(pollRequests).toBe(0);
    await ui.shot("rolled-back");
  }, 90_000);

  it("falls back to polling deploymentStatsNow when the live stream is refused, and says so", async () => {
    // A second page whose WebSockets to the proxy are closed with a protocol error (4400): the
    // stream cannot recover, so the view must poll and show it is polling.
    // (A page of its own context: the session's page was made by browser.newPage, which allows one page.)
    const other = await ui.page.context().browser()!.newPage({ viewport: { width: 1400, height: 900 } });
    let otherPolls = 0;
    other.on("request", (req) => {
      if (req.url().includes("/ouro/graphql") && (req.postData() ?? "").includes("deploymentStatsNow")) otherPolls++;
    });
    await other.routeWebSocket(/\/ouro\/graphql-ws/, (ws) => ws.close({ code: 4400, reason: "refused by the test" }));
    try {
      await other.goto(`${ui.base}lab?token=${ui.jupyterToken}`);
      // The layout is the Jupyter server's workspace, restored while the page loads: the sidebar
      // may open or close under us, so open it until the deployment can be clicked.
      const tab = other.locator('.lm-TabBar-tab[data-id="ouro-sidebar"]');
      const node = other.locator(`#ouro-sidebar [data-ouro-kind="deployment"][data-ouro-id="${deploymentId}"]`);
      await tab.waitFor({ timeout: 60_000 });
      const deadline = Date.now() + 60_000;
      while (!(await node.isVisible())) {
        if (Date.now() > deadline) throw new Error("the sidebar never showed the deployment");
        if (!(await other.locator("#ouro-sidebar").isVisible())) await tab.click();
        await other.waitForTimeout(1000);
      }
      await node.click();
      const view = other.locator(`.ouro-panel[data-ouro-kind="deployment"][data-ouro-id="${deploymentId}"]`);
      await expect.poll(() => view.getAttribute("data-ouro-stats-source"), { timeout: 30_000 }).toBe("polling");
      await expect.poll(() => view.locator(".ouro-message").textContent(), { timeout: 15_000 }).toMatch(/^Polling every 3 s: the live stream failed \(Connection problem: WebSocket closed: 4400 refused by the test\) · \d+ predictions in the last 60 s$/);
      expect(await view.locator(".ouro-message").getAttribute("data-level")).toBe("error");
      const points = async () => Number((await view.locator('[data-ouro-metric="rows/s (last 60 s)"]').getAttribute("data-ouro-points")) ?? 0);
      const before = await points();
      await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(before);
      expect(otherPolls).toBeGreaterThan(0);
      await ui.shots.take(other, "deployment-polling-fallback");
    } catch (err) {
      await ui.shots.take(other, "FAILED-polling-page").catch(() => undefined);
      throw err;
    } finally {
      await other.close();
    }
  }, 150_000);

  it("a deployment deleted under its open, streaming view says not found", async () => {
    const view = await front("deployment", deploymentId);
    await expect.poll(() => view.getAttribute("data-ouro-stats-source"), { timeout: 30_000 }).toBe("subscription");
    await expect.poll(() => view.locator(".ouro-message").getAttribute("data-level"), { timeout: 30_000 }).toBe("live");
    // Ouro has no deleteDeployment mutation: the row goes as an operator would remove it.
    await ui.t.app.db.query("DELETE FROM deployments WHERE id = $1", [deploymentId]);
    const gone = view.locator('[data-ouro-error="not-found"]');
    await gone.waitFor({ timeout: 20_000 });
    expect(await gone.textContent()).toMatch(/^This deployment was not found: it was deleted/);
    // The live numbers stopped with it.
    expect(await view.locator(".ouro-message").textContent()).toBe("");
    await ui.shot("deleted-deployment");
  }, 60_000);
});
