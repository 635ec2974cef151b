import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, newUserToken, startTestOuro, take, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");
const SPECIES = ["Adelie", "Chinstrap", "Gentoo"];

const CREATE = `mutation($i: CreateLabellingTaskInput!) { createLabellingTask(input: $i) { id status buildJobId labelSchema { kind classes } selection } }`;
const NEXT = `mutation($t: ID!, $n: Int!) { nextLabellingItems(taskId: $t, limit: $n) { id position rowIndex requestId values score prediction labelCount } }`;
const SUBMIT = `mutation($i: ID!, $v: LabelValueInput!) { submitLabel(itemId: $i, value: $v) { itemId userId value skipped } }`;
const SKIP = `mutation($i: ID!) { skipLabellingItem(itemId: $i) { itemId skipped value } }`;
const TASK = `query($t: ID!) { labellingTask(id: $t) {
  id status error size
  progress { totalItems labelledItems completedItems labels skips fraction cursor labellers { userId labels skips } }
  agreement { labelledItems comparedItems labellers percentAgreement fleissKappa cohenKappa pairs { items percentAgreement cohenKappa } classCounts { class labels consensus } meanAbsoluteDifference }
  items(limit: 500) { id position rowIndex requestId values score prediction labelCount labels { userId value skipped } }
} }`;
const PROGRESS = `subscription($t: ID!, $a: Cursor) { labellingProgress(taskId: $t, after: $a) { totalItems labelledItems completedItems labels skips cursor } }`;

/** Follows a labellingProgress subscription until `done(progress)` holds (or 60 s pass). */
function until(client: Client, query: string, variables: Record<string, unknown>, done: (p: any) => boolean): Promise<{ events: any[]; errors: unknown[] }> {
  return new Promise((resolve) => {
    const events: any[] = [];
    const errors: unknown[] = [];
    let dispose = () => undefined as void;
    const finish = () => {
      clearTimeout(timer);
      dispose();
      resolve({ events, errors });
    };
    const timer = setTimeout(finish, 60_000);
    dispose = client.subscribe<any>({ query, variables }, {
      next: (v) => {
        if (v.errors) errors.push(...v.errors);
        if (v.data) events.push(v.data);
        if (v.data && done(v.data.labellingProgress)) finish();
      },
      error: (e) => {
        errors.push(e);
        finish();
      },
      complete: finish,
    });
  });
}

describe("labelling", () => {
  let t: TestOuro;
  let projectId: string;
  let versionId: string;
  let alice: string;
  let bob: string;
  let carol: string;
  let victor: string;
  let outsider: string;
  const ids: Record<string, string> = {};

  const finished = (jobId: string, timeoutMs?: number) => waitForJob(t, jobId, timeoutMs);
  async function mutate(query: string, variables: Record<string, unknown>, token = t.adminToken) {
    const r = await t.gql(query, variables, token);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  /** The error code and message of a request expected to fail. */
  async function refused(query: string, variables: Record<string, unknown>, token = t.adminToken) {
    const r = await t.gql(query, variables, token);
    expect(r.errors, JSON.stringify(r.data)).toBeDefined();
    return { code: r.errors![0].extensions?.code, message: r.errors![0].message };
  }
  async function createTask(input: Record<string, unknown>, token = t.adminToken) {
    const task = await mutate(CREATE, { i: { projectId, ...input } }, token);
    const job = await finished(task.buildJobId);
    return { task, job };
  }
  const readTask = async (id: string, token = t.adminToken) => (await t.gql(TASK, { t: id }, token)).data.labellingTask;
  const rowOf = async (version: string, index: number) =>
    (await t.gql(`query($v: ID!, $o: Int!) { datasetVersion(id: $v) { preview(offset: $o, limit: 1) { rows } } }`, { v: version, o: index })).data.datasetVersion.preview.rows[0];

  beforeAll(async () => {
    t = await startTestOuro({ label: "labelling", worker: true, env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1" } });
    projectId = await createProject(t, "labelling");
    const ingest = await finished((await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } })).id);
    expect(ingest.status, ingest.error).toBe("succeeded");
    versionId = ingest.result.versionId;
    const tokens: Record<string, string> = {};
    for (const [name, role] of [["alice", "editor"], ["bob", "editor"], ["carol", "editor"], ["victor", "viewer"], ["outsider", null]] as const) {
      tokens[name] = await newUserToken(t, `${name}@example.com`);
      if (role) await mutate(`mutation($p: ID!, $e: String!, $r: Role!) { setMembership(projectId: $p, email: $e, role: $r) { role } }`, { p: projectId, e: `${name}@example.com`, r: role });
      ids[name] = (await t.app.db.query("SELECT id FROM users WHERE email = $1", [`${name}@example.com`]))[0].id;
    }
    ({ alice, bob, carol, victor, outsider } = tokens);
  }, 120_000);
  afterAll(() => t?.stop());

  it("two labellers label a random queue; agreement, live progress and the export are right", async () => {
    const input = {
      name: "species-check",
      source: { datasetVersionId: versionId },
      labelSchema: { kind: "classes", classes: SPECIES },
      labelColumn: "species_label",
      selection: { strategy: "random", seed: 7 },
      size: 6,
      labelsPerRow: 2,
      assigneeIds: [ids.alice, ids.bob],
    };
    const { task, job } = await createTask(input);
    expect(job.status, job.error).toBe("succeeded");
    expect(job.result).toMatchObject({ items: 6, candidates: 344 });
    let state = await readTask(task.id);
    expect(state.status).toBe("ready");
    const items = state.items;
    expect(items.map((i: { position: number }) => i.position)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(items.map((i: { rowIndex: number }) => i.rowIndex)).size).toBe(6);
    // Each item is a snapshot of its source row.
    for (const item of items.slice(0, 2)) expect(item.values).toEqual(await rowOf(versionId, item.rowIndex));
    // The same seed gives the same queue.
    const again = await createTask({ ...input, name: "species-check-again", assigneeIds: [] });
    expect((await readTask(again.task.id)).items.map((i: { rowIndex: number }) => i.rowIndex)).toEqual(items.map((i: { rowIndex: number }) => i.rowIndex));

    const client = t.ws(victor); // a viewer may follow progress
    // Changes close together may arrive as one event (each event is the state at its cursor), so follow until the final state.
    const live = until(client, PROGRESS, { t: task.id, a: null }, (p) => p.labels === 11 && p.skips === 1 && p.labelledItems === 6);
    await sleep(300);

    // Both labellers are offered every row (two labels per row wanted).
    const forAlice = await mutate(NEXT, { t: task.id, n: 10 }, alice);
    const forBob = await mutate(NEXT, { t: task.id, n: 10 }, bob);
    expect(forAlice.map((i: { id: string }) => i.id).sort()).toEqual(items.map((i: { id: string }) => i.id).sort());
    expect(forBob).toHaveLength(6);
    // Hand-checkable answers on items 0-4 (item 5: alice only; bob skips it):
    //   alice A A C G G,  bob A A C G C  → they agree on 4 of 5 rows: 0.8.
    //   Cohen: alice's shares A .4 C .2 G .4, bob's A .4 C .4 G .2 → pₑ = .16 + .08 + .08 = .32,
    //          κ = (.8 − .32) / (1 − .32) = .70588…
    //   Fleiss: pooled A 4/10 C 3/10 G 3/10 → Pₑ = .16 + .09 + .09 = .34, κ = (.8 − .34) / .66 = .69697…
    const byPosition = (list: { id: string; position: number }[], p: number) => list.find((i) => i.position === p)!.id;
    const aliceAnswers = ["Adelie", "Adelie", "Chinstrap", "Gentoo", "Gentoo", "Gentoo"];
    const bobAnswers = ["Adelie", "Adelie", "Chinstrap", "Gentoo", "Chinstrap"];
    for (const [p, v] of aliceAnswers.entries()) await mutate(SUBMIT, { i: byPosition(forAlice, p), v: { class: v } }, alice);
    // Re-submitting replaces: alice changes her mind on item 0 and back (still one label of hers).
    await mutate(SUBMIT, { i: byPosition(forAlice, 0), v: { class: "Gentoo" } }, alice);
    const relabelled = await mutate(SUBMIT, { i: byPosition(forAlice, 0), v: { class: "Adelie" } }, alice);
    expect(relabelled).toEqual({ itemId: byPosition(forAlice, 0), userId: ids.alice, value: "Adelie", skipped: false });
    for (const [p, v] of bobAnswers.entries()) await mutate(SUBMIT, { i: byPosition(forBob, p), v: { class: v } }, bob);
    expect(await mutate(SKIP, { i: byPosition(forBob, 5) }, bob)).toMatchObject({ skipped: true, value: null });
    expect(await mutate(NEXT, { t: task.id, n: 10 }, alice)).toEqual([]);
    expect(await mutate(NEXT, { t: task.id, n: 10 }, bob)).toEqual([]);

    state = await readTask(task.id, victor);
    expect(state.progress).toMatchObject({ totalItems: 6, labelledItems: 6, completedItems: 5, labels: 11, skips: 1, fraction: 5 / 6 });
    expect(state.progress.labellers).toEqual(
      expect.arrayContaining([{ userId: ids.alice, labels: 6, skips: 0 }, { userId: ids.bob, labels: 5, skips: 1 }]),
    );
    const a = state.agreement;
    expect(a).toMatchObject({ labelledItems: 6, comparedItems: 5, labellers: 2 });
    expect(a.percentAgreement).toBeCloseTo(0.8, 10);
    expect(a.cohenKappa).toBeCloseTo(0.48 / 0.68, 10);
    expect(a.fleissKappa).toBeCloseTo(0.46 / 0.66, 10);
    expect(a.pairs).toEqual([{ items: 5, percentAgreement: 0.8, cohenKappa: a.cohenKappa }]);
    expect(a.classCounts).toEqual([
      { class: "Adelie", labels: 4, consensus: 2 },
      { class: "Chinstrap", labels: 3, consensus: 1 },
      { class: "Gentoo", labels: 4, consensus: 2 },
    ]);

    // Progress arrived live, in order, ending at the final state; a resumed follower gets only what came after its cursor.
    const { events, errors } = await live;
    await client.dispose();
    expect(errors).toEqual([]);
    const last = events[events.length - 1].labellingProgress;
    expect(last).toMatchObject({ labelledItems: 6, completedItems: 5, labels: 11, skips: 1 });
    const cursors = events.map((e: any) => Number(e.labellingProgress.cursor));
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
    const middle = events[Math.floor(events.length / 2)].labellingProgress.cursor;
    const resumed = t.ws(alice);
    const after = await take<any>(resumed, PROGRESS, { t: task.id, a: middle }, 1, 10_000);
    await resumed.dispose();
    expect(after.events.map((e: any) => e.labellingProgress.cursor)).toEqual([last.cursor]);
    expect(Number(last.cursor)).toBeGreaterThan(Number(middle));

    // Export: every source row plus the consensus label; the tie (item 4) and unqueued rows are null.
    const exported = await finished((await mutate(`mutation($t: ID!) { exportLabels(taskId: $t) { id } }`, { t: task.id }, alice)).id);
    expect(exported.status, exported.error).toBe("succeeded");
    expect(exported.result).toMatchObject({ rows: 344, labelled: 5, predictionLabels: 0 });
    const v = (await t.gql(`query($v: ID!) { datasetVersion(id: $v) { datasetId rowCount parentVersionIds source schema { name type } } }`, { v: exported.result.versionId })).data.datasetVersion;
    expect(v.parentVersionIds).toEqual([versionId]);
    expect(v.source).toMatchObject({ kind: "labelling", taskId: task.id, labelColumn: "species_label" });
    expect(v.schema.slice(-2)).toEqual([{ name: "species_label", type: "String" }, { name: "species_label_votes", type: "Int32" }]);
    for (const [p, expected, votes] of [[0, "Adelie", 2], [2, "Chinstrap", 2], [4, null, 2], [5, "Gentoo", 1]] as const) {
      const row = await rowOf(exported.result.versionId, items[p].rowIndex);
      expect(row.species_label).toBe(expected);
      expect(row.species_label_votes).toBe(votes);
      expect(row.Species).toBe(items[p].values.Species);
    }
    const unqueued = [...Array(344).keys()].find((i) => !items.some((it: { rowIndex: number }) => it.rowIndex === i))!;
    expect(await rowOf(exported.result.versionId, unqueued)).toMatchObject({ species_label: null, species_label_votes: 0 });
    // It is in the catalogue, with lineage back to the source version.
    const catalogue = (await t.gql(`query($p: ID!) { datasets(projectId: $p, first: 50) { nodes { id name } } }`, { p: projectId })).data.datasets.nodes;
    expect(catalogue).toContainEqual({ id: v.datasetId, name: "species-check-labels" });
    const lineage = (await t.gql(`query($id: ID!) { lineage(id: $id) { edges { from to relation } } }`, { id: exported.result.versionId })).data.lineage;
    expect(lineage.edges).toContainEqual({ from: versionId, to: exported.result.versionId, relation: "derived" });
    // Only labelled rows, into a dataset of our choosing.
    const only = await finished((await mutate(`mutation($t: ID!) { exportLabels(taskId: $t, dataset: "species-training", labelledOnly: true) { id } }`, { t: task.id })).id);
    expect(only.result).toMatchObject({ rows: 5, labelled: 5 });

    // Disagreement: a new task over the same source re-queues the rows the labellers disagreed on.
    const disputed = await createTask({ name: "species-disputed", source: { datasetVersionId: versionId }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "disagreement", fromTaskId: task.id }, size: 10 });
    expect(disputed.job.status, disputed.job.error).toBe("succeeded");
    const disputedItems = (await readTask(disputed.task.id)).items;
    expect(disputedItems.map((i: { rowIndex: number; score: number }) => [i.rowIndex, i.score])).toEqual([[items[4].rowIndex, 0.5]]);

    const trail = (await t.gql(`query($p: ID!) { auditTrail(projectId: $p, first: 100) { action actorId } }`, { p: projectId })).data.auditTrail;
    const actions = trail.map((e: { action: string }) => e.action);
    for (const action of ["labelling.create", "labelling.label", "labelling.skip", "labelling.export"]) expect(actions).toContain(action);
    expect(trail.filter((e: { action: string; actorId: string }) => e.action === "labelling.label" && e.actorId === ids.bob)).toHaveLength(5);
  }, 180_000);

  it("spreads a one-label-per-row queue over labellers and keeps each one's items for them", async () => {
    const { task } = await createTask({ name: "spread", source: { datasetVersionId: versionId }, labelSchema: { kind: "multiLabel", classes: ["clear", "blurry", "cropped"] }, selection: { strategy: "random", seed: 1 }, size: 6 });
    // Asked at the same moment, the two labellers still get different rows.
    const [first, second] = await Promise.all([mutate(NEXT, { t: task.id, n: 3 }, alice), mutate(NEXT, { t: task.id, n: 3 }, bob)]);
    expect(first).toHaveLength(3);
    expect(second).toHaveLength(3);
    expect(new Set([...first, ...second].map((i: { id: string }) => i.id)).size).toBe(6);
    expect(await mutate(NEXT, { t: task.id, n: 3 }, carol)).toEqual([]); // every row is held
    // Asking again gives the same held items back; answered ones go away.
    const answered = await mutate(SUBMIT, { i: first[0].id, v: { classes: ["cropped", "clear"] } }, alice);
    expect(answered.value).toEqual(["clear", "cropped"]);
    expect((await mutate(NEXT, { t: task.id, n: 3 }, alice)).map((i: { id: string }) => i.id)).toEqual(first.slice(1).map((i: { id: string }) => i.id));
    // A full row refuses a newcomer's label; the owner may still change theirs.
    expect(await refused(SUBMIT, { i: first[0].id, v: { classes: [] } }, carol)).toMatchObject({ code: "CONFLICT" });
    expect((await mutate(SUBMIT, { i: first[0].id, v: { classes: [] } }, alice)).value).toEqual([]);
    expect((await refused(SUBMIT, { i: first[1].id, v: { classes: ["clear", "clear"] } }, alice)).code).toBe("BAD_USER_INPUT");
    expect((await refused(SUBMIT, { i: first[1].id, v: { classes: ["smudged"] } }, alice)).message).toMatch(/"smudged" is not a class/);
    await mutate(SUBMIT, { i: second[0].id, v: { classes: ["blurry", "clear"] } }, bob);
    // Multi-label exports are list columns; "none of the classes" is an empty list, not a missing label.
    const exported = await finished((await mutate(`mutation($t: ID!) { exportLabels(taskId: $t, labelledOnly: true) { id } }`, { t: task.id })).id);
    expect(exported.status, exported.error).toBe("succeeded");
    const v = (await t.gql(`query($v: ID!) { datasetVersion(id: $v) { schema { name type } preview { rows } } }`, { v: exported.result.versionId })).data.datasetVersion;
    expect(v.schema.find((c: { name: string }) => c.name === "label").type).toMatch(/List/);
    const byRow = Object.fromEntries(v.preview.rows.map((r: { Species: string; label: string[]; "Body Mass (g)": number }) => [`${r.Species}/${r["Body Mass (g)"]}`, r.label]));
    expect(byRow).toEqual({
      [`${first[0].values.Species}/${first[0].values["Body Mass (g)"]}`]: [],
      [`${second[0].values.Species}/${second[0].values["Body Mass (g)"]}`]: ["clear", "blurry"],
    });
  });

  it("queues the rows a trained model is least sure of, and the rows where it contradicts the data", async () => {
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "penguin inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [
        { op: "drop", columns: ["Sex"] },
        { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
        { op: "oneHot", column: "Island" },
      ],
    });
    expect((await finished((await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: versionId })).id)).status).toBe("succeeded");
    const train = await finished(
      (await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: { projectId, datasetVersionId: versionId, recipeId: recipe.id, target: "Species", task: "multiclass", features: ["Body Mass (g)"], model: { kind: "logistic", epochs: 20 }, seed: 3 } })).id,
    );
    expect(train.status, train.error).toBe("succeeded");
    const model = await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguin-species" }) { id } }`, { r: train.result.runId });

    const everything = await createTask({ name: "unsure-all", source: { datasetVersionId: versionId }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "leastConfident", modelVersionId: model.id }, size: 344 });
    expect(everything.job.status, everything.job.error).toBe("succeeded");
    const all = (await readTask(everything.task.id)).items;
    expect(all).toHaveLength(344);
    const scores = all.map((i: { score: number }) => i.score);
    expect(scores).toEqual([...scores].sort((x, y) => x - y));
    for (const item of all.slice(0, 5)) {
      const probabilities = Object.values(item.prediction.probabilities) as number[];
      expect(item.score).toBeCloseTo(Math.max(...probabilities), 5);
      expect(probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
    }
    expect(scores[0]).toBeLessThan(scores[343]);
    const top = await createTask({ name: "unsure", source: { datasetVersionId: versionId }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "leastConfident", modelVersionId: model.id }, size: 10 });
    expect((await readTask(top.task.id)).items.map((i: { rowIndex: number }) => i.rowIndex)).toEqual(all.slice(0, 10).map((i: { rowIndex: number }) => i.rowIndex));

    // Over a prediction log, the same model scores the logged inputs (through its recipe) to the same confidences.
    const [dep] = await t.app.db.query(`INSERT INTO deployments (project_id, name) VALUES ($1, 'species-api') RETURNING id`, [projectId]);
    const logged = all.slice(0, 5);
    for (const [k, item] of logged.entries()) {
      await t.app.db.query(
        `INSERT INTO prediction_log (deployment_id, project_id, request_id, model_version_id, role, inputs, outputs, latency_ms) VALUES ($1, $2, $3, $4, 'primary', $5, '{}', 1)`,
        [dep.id, projectId, `r${k}`, model.id, item.values],
      );
    }
    const fromLog = await createTask({ name: "unsure-live", source: { predictionLog: { deploymentId: dep.id } }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "leastConfident", modelVersionId: model.id }, size: 3 });
    expect(fromLog.job.status, fromLog.job.error).toBe("succeeded");
    const liveItems = (await readTask(fromLog.task.id)).items;
    expect(liveItems).toHaveLength(3);
    for (const item of liveItems) expect(item.score).toBeCloseTo(logged[Number(item.requestId.slice(1))].score, 5);
    const liveScores = liveItems.map((i: { score: number }) => i.score);
    expect(liveScores).toEqual([...liveScores].sort((x, y) => x - y));
    // (The five logged rows are the five least confident of the dataset, so close together that ties decide the order.)

    const wrong = await createTask({ name: "model-vs-data", source: { datasetVersionId: versionId }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "disagreement", modelVersionId: model.id, compareColumn: "Species" }, size: 50 });
    expect(wrong.job.status, wrong.job.error).toBe("succeeded");
    const contradicted = (await readTask(wrong.task.id)).items;
    for (const item of contradicted) expect(item.prediction.label).not.toBe(item.values.Species);
    const confidence = contradicted.map((i: { score: number }) => i.score);
    expect(confidence).toEqual([...confidence].sort((x, y) => y - x));
    // One body-mass feature cannot tell Adelie from Chinstrap: the scan of everything finds the
    // same wrong rows, and the queue holds the 50 most confidently wrong of them.
    const wrongThere = all.filter((i: any) => i.prediction.label !== i.values.Species);
    expect(wrongThere.length).toBeGreaterThan(0);
    expect(contradicted).toHaveLength(Math.min(50, wrongThere.length));
    const threshold = contradicted[contradicted.length - 1].score;
    const expected = wrongThere.filter((i: { score: number }) => i.score > threshold + 1e-9).map((i: { rowIndex: number }) => i.rowIndex);
    const got = contradicted.map((i: { rowIndex: number }) => i.rowIndex);
    for (const row of expected) expect(got).toContain(row);
  }, 180_000);

  it("labels a deployment's prediction log and records the labels as ground truth", async () => {
    const [dep] = await t.app.db.query(`INSERT INTO deployments (project_id, name) VALUES ($1, 'penguin-api') RETURNING id`, [projectId]);
    const modelVersionId = "00000000-0000-4000-8000-000000000001";
    // Eight requests, one an hour; the deployment's confidence in "a" is 0.5 + i/20.
    for (let i = 0; i < 8; i++) {
      const pa = 0.5 + i / 20 + (i % 2 ? 0.01 : 0);
      await t.app.db.query(
        `INSERT INTO prediction_log (deployment_id, project_id, request_id, model_version_id, role, inputs, outputs, latency_ms, at)
         VALUES ($1, $2, $3, $4, 'primary', $5, $6, 1.5, now() - make_interval(hours => $7))`,
        [dep.id, projectId, `req-${i}`, modelVersionId, { x: i, colour: i % 2 ? "red" : "blue" }, { prediction: "a", probabilities: { a: pa, b: 1 - pa } }, i],
      );
    }
    await t.app.db.query(
      `INSERT INTO prediction_log (deployment_id, project_id, request_id, model_version_id, role, inputs, outputs, latency_ms) VALUES ($1, $2, 'shadow-0', $3, 'shadow', '{"x": 0}', '{"prediction": "b", "probabilities": {"a": 0.5, "b": 0.5}}', 1)`,
      [dep.id, projectId, modelVersionId],
    );
    const from = new Date(Date.now() - 6.5 * 3600_000).toISOString(); // req-0 … req-6
    const { task, job } = await createTask({
      name: "live-check",
      source: { predictionLog: { deploymentId: dep.id, from } },
      labelSchema: { kind: "classes", classes: ["a", "b"] },
      selection: { strategy: "leastConfident" },
      size: 3,
    });
    expect(job.status, job.error).toBe("succeeded");
    expect(job.result).toMatchObject({ items: 3, candidates: 7 });
    const items = (await readTask(task.id)).items;
    expect(items.map((i: { requestId: string }) => i.requestId)).toEqual(["req-0", "req-1", "req-2"]);
    expect(items[0].values).toEqual({ x: 0, colour: "blue" });
    expect(items[1].score).toBeCloseTo(0.56, 10);

    await mutate(SUBMIT, { i: items[0].id, v: { class: "b" } }, alice);
    await mutate(SUBMIT, { i: items[1].id, v: { class: "a" } }, bob);
    const exported = await finished((await mutate(`mutation($t: ID!) { exportLabels(taskId: $t) { id } }`, { t: task.id })).id);
    expect(exported.status, exported.error).toBe("succeeded");
    expect(exported.result).toMatchObject({ rows: 3, labelled: 2, predictionLabels: 2 });
    const truth = await t.app.db.query(`SELECT request_id, label FROM prediction_labels WHERE deployment_id = $1 ORDER BY request_id`, [dep.id]);
    expect(truth).toEqual([{ request_id: "req-0", label: "b" }, { request_id: "req-1", label: "a" }]);
    const v = (await t.gql(`query($v: ID!) { datasetVersion(id: $v) { parentVersionIds source preview { rows } } }`, { v: exported.result.versionId })).data.datasetVersion;
    expect(v.parentVersionIds).toEqual([]);
    expect(v.source).toMatchObject({ kind: "labelling", taskId: task.id, deploymentId: dep.id });
    expect(v.preview.rows).toEqual([
      { x: 0, colour: "blue", request_id: "req-0", prediction: "a", label: "b", label_votes: 1 },
      { x: 1, colour: "red", request_id: "req-1", prediction: "a", label: "a", label_votes: 1 },
      { x: 2, colour: "blue", request_id: "req-2", prediction: "a", label: null, label_votes: 0 },
    ]);
  }, 120_000);

  it("lets viewers read, editors label, only assignees label restricted tasks, and hides other projects' tasks", async () => {
    const { task } = await createTask({ name: "restricted", source: { datasetVersionId: versionId }, labelSchema: { kind: "numeric", min: 0, max: 10 }, selection: { strategy: "random" }, size: 2, assigneeIds: [ids.alice] }, alice);
    const [item] = await mutate(NEXT, { t: task.id, n: 1 }, alice);

    // Viewer: reads, but neither creates nor labels.
    expect((await readTask(task.id, victor)).progress.totalItems).toBe(2);
    const listed = (await t.gql(`query($p: ID!) { labellingTasks(projectId: $p, first: 100) { totalCount nodes { name labelSchema { kind min max } } } }`, { p: projectId }, victor)).data.labellingTasks;
    expect(listed.nodes).toContainEqual({ name: "restricted", labelSchema: { kind: "numeric", min: 0, max: 10 } });
    expect((await refused(`query($p: ID!) { labellingTasks(projectId: $p) { totalCount } }`, { p: projectId }, outsider)).code).toBe("NOT_FOUND");
    expect((await refused(CREATE, { i: { projectId, name: "by-viewer", source: { datasetVersionId: versionId }, labelSchema: { kind: "numeric", min: 0, max: 1 }, selection: { strategy: "random" }, size: 1 } }, victor)).code).toBe("FORBIDDEN");
    expect((await refused(SUBMIT, { i: item.id, v: { number: 1 } }, victor)).code).toBe("FORBIDDEN");
    expect((await refused(`mutation($t: ID!) { exportLabels(taskId: $t) { id } }`, { t: task.id }, victor)).code).toBe("FORBIDDEN");
    // An editor who is not an assignee.
    expect(await refused(NEXT, { t: task.id, n: 1 }, carol)).toMatchObject({ code: "FORBIDDEN", message: expect.stringMatching(/assignees/) });
    expect((await refused(SUBMIT, { i: item.id, v: { number: 1 } }, carol)).code).toBe("FORBIDDEN");
    // Someone outside the project: the task and its items do not exist for them.
    expect(await refused(`query($t: ID!) { labellingTask(id: $t) { id } }`, { t: task.id }, outsider)).toEqual({ code: "NOT_FOUND", message: `labelling task ${task.id} not found` });
    expect((await refused(NEXT, { t: task.id, n: 1 }, outsider)).code).toBe("NOT_FOUND");
    expect(await refused(SUBMIT, { i: item.id, v: { number: 1 } }, outsider)).toEqual({ code: "NOT_FOUND", message: `labelling item ${item.id} not found` });
    const ws = t.ws(outsider);
    const sub = await take(ws, PROGRESS, { t: task.id, a: null }, 1, 5000);
    await ws.dispose();
    expect(sub.events).toEqual([]);
    expect(JSON.stringify(sub.errors)).toMatch(/NOT_FOUND|not found/);

    // Numeric answers: out of range and wrong kind are refused; nothing is recorded.
    expect(await refused(SUBMIT, { i: item.id, v: { number: 10.5 } }, alice)).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/outside this task's range \[0, 10\]/) });
    expect((await refused(SUBMIT, { i: item.id, v: { class: "Adelie" } }, alice)).code).toBe("BAD_USER_INPUT");
    expect((await refused(SUBMIT, { i: item.id, v: { number: 1, class: "x" } }, alice)).code).toBe("BAD_USER_INPUT");
    expect((await refused(SUBMIT, { i: "not-a-uuid", v: { number: 1 } }, alice)).code).toBe("BAD_USER_INPUT");
    expect((await readTask(task.id)).progress.labels).toBe(0);
    await mutate(SUBMIT, { i: item.id, v: { number: 4 } }, alice);
    await mutate(SUBMIT, { i: item.id, v: { number: 6.5 } }, alice);
    const [{ n, value }] = await t.app.db.query(`SELECT count(*)::int AS n, max(value::text) AS value FROM labelling_labels WHERE item_id = $1`, [item.id]);
    expect({ n, value }).toEqual({ n: 1, value: "6.5" });
  });

  it("refuses bad task definitions before writing anything", async () => {
    const other = await createProject(t, "elsewhere");
    const otherIngest = await finished((await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId: other, dataset: "weather", source: { path: path.join(DATA, "seattle-weather.csv") } } })).id);
    const base = { name: "bad", source: { datasetVersionId: versionId }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "random" }, size: 5 };
    const count = async () => (await t.app.db.query(`SELECT (SELECT count(*) FROM labelling_tasks)::int AS tasks, (SELECT count(*) FROM jobs)::int AS jobs`))[0];
    const before = await count();
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["a single class", { labelSchema: { kind: "classes", classes: ["Adelie"] } }, "BAD_USER_INPUT", /2 to 1000 classes/],
      ["duplicate classes", { labelSchema: { kind: "classes", classes: ["a", "a"] } }, "BAD_USER_INPUT", /distinct/],
      ["numeric without a range", { labelSchema: { kind: "numeric", min: 3 } }, "BAD_USER_INPUT", /min < max/],
      ["an empty queue", { size: 0 }, "BAD_USER_INPUT", /size/],
      ["an oversized queue", { size: 1_000_000 }, "BAD_USER_INPUT", /size/],
      ["two sources", { source: { datasetVersionId: versionId, predictionLog: { deploymentId: versionId } } }, "BAD_USER_INPUT", /exactly one/],
      ["another project's version", { source: { datasetVersionId: otherIngest.result.versionId } }, "BAD_USER_INPUT", /not found in this project/],
      ["an unknown deployment", { source: { predictionLog: { deploymentId: "00000000-0000-4000-8000-000000000009" } } }, "BAD_USER_INPUT", /deployment .* not found/],
      ["least-confident without a model", { selection: { strategy: "leastConfident" } }, "BAD_USER_INPUT", /needs selection.modelVersionId/],
      ["an unknown model", { selection: { strategy: "leastConfident", modelVersionId: "00000000-0000-4000-8000-000000000009" } }, "BAD_USER_INPUT", /model version .* not found/],
      ["disagreement with nothing to disagree with", { selection: { strategy: "disagreement" } }, "BAD_USER_INPUT", /fromTaskId/],
      ["a label column the data has", { labelColumn: "Species" }, "BAD_USER_INPUT", /already has column Species/],
      ["a viewer as assignee", { assigneeIds: [ids.victor] }, "BAD_USER_INPUT", /must be editors/],
      ["a hostile name", { name: "../../etc" }, "BAD_USER_INPUT", /task name/],
      ["a name in use", { name: "species-check" }, "CONFLICT", /already exists/],
      ["no labels per row", { labelsPerRow: 0 }, "BAD_USER_INPUT", /labelsPerRow/],
    ];
    for (const [what, change, code, message] of cases) {
      const r = await refused(CREATE, { i: { projectId, ...base, ...change } });
      expect(r.code, what).toBe(code);
      expect(r.message, what).toMatch(message);
    }
    // Another project's id for the task's project itself: NOT_FOUND, as if it did not exist.
    expect((await refused(CREATE, { i: { ...base, projectId: other } }, alice)).code).toBe("NOT_FOUND");
    expect(await count()).toEqual(before);
    // A queue that selects nothing fails its build with a clear reason, and the task says so.
    const none = await createTask({ ...base, name: "nothing-to-log", source: { predictionLog: { deploymentId: (await t.app.db.query(`INSERT INTO deployments (project_id, name) VALUES ($1, 'idle') RETURNING id`, [projectId]))[0].id } } });
    expect(none.job.status).toBe("failed");
    expect(none.job.error).toMatch(/no rows to label/);
    const failed = await readTask(none.task.id);
    expect(failed).toMatchObject({ status: "failed", error: expect.stringMatching(/no rows to label/) });
    expect(failed.items).toEqual([]);
    expect((await refused(NEXT, { t: none.task.id, n: 1 }, alice)).code).toBe("CONFLICT");
  }, 60_000);
});
