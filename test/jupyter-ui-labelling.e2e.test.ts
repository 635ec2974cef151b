import path from "node:path";
import type { Locator } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DATA, UiSession } from "./helpers/jupyter";
import { createProject, newUserToken, waitForJob } from "./helpers/ouro";

/**
 * The labelling panel in a real JupyterLab, driven with the keyboard only (apart from the
 * clicks that open the panel, give it the focus and confirm the export): a random queue of
 * penguins with three classes is labelled with number keys, a row is skipped with S, ← goes
 * back and a label is changed; the server must then hold exactly those labels, for the user
 * the Jupyter server's token belongs to. Then the refusals: a key pressed while the notebook has
 * the focus does nothing, a label the server refuses (another labeller filled the row) leaves the
 * card and the choice in place, and a task deleted under the open panel says it is gone. Last,
 * the new-task form: its model and earlier-task pickers list what the project holds (or say it
 * holds none), and a least-confident task made with a picked model ranks rows as the API does.
 * Screenshots: test-output/ui-labelling/.
 */
const SPECIES = ["Adelie", "Chinstrap", "Gentoo"];
const ITEMS = `query($t: ID!) { labellingTask(id: $t) { items(limit: 100) { id rowIndex values labels { userId value skipped } } } }`;

describe("the labelling panel", () => {
  const s = new UiSession("ui-labelling");
  let projectId: string;
  let versionId: string;
  let taskId: string;
  let me: string;
  let bobToken: string;
  let bobId: string;
  /** What the test did through the panel: item id → class, and the skipped item. */
  const labelled = new Map<string, string>();
  let skipped = "";
  let changed = "";
  let refusedItem = "";

  const panel = () => s.panel("labellingTask", taskId);
  const card = () => panel().locator(".ouro-lq-card");
  const cardItem = async () => (await card().getAttribute("data-ouro-item", { timeout: 30_000 }))!;
  /** Presses a key and waits for the card to show another row. */
  async function pressAndMove(key: string): Promise<string> {
    const before = await cardItem();
    await s.page.keyboard.press(key);
    await expect.poll(cardItem, { timeout: 30_000 }).not.toBe(before);
    return before;
  }
  const serverItems = async () => (await s.gql(ITEMS, { t: taskId })).labellingTask.items as { id: string; rowIndex: number; values: Record<string, string>; labels: { userId: string; value: unknown; skipped: boolean }[] }[];
  const tab = () => s.page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab:has-text("Label species-check")');
  /** Our tab to the front (the lab's notebook may open late and take it), then a click on the card. */
  async function focusPanel(): Promise<void> {
    await tab().click();
    await card().click({ position: { x: 5, y: 5 } });
  }

  beforeAll(async () => {
    await s.startOuro();
    projectId = await createProject(s.t, "labelling-ui");
    const ingest = await waitForJob(s.t, (await s.gql(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } })).ingestDataset.id);
    expect(ingest.status, ingest.error).toBe("succeeded");
    versionId = ingest.result.versionId;
    const { createLabellingTask: task } = await s.gql(`mutation($i: CreateLabellingTaskInput!) { createLabellingTask(input: $i) { id buildJobId } }`, {
      i: { projectId, name: "species-check", source: { datasetVersionId: versionId }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "random", seed: 11 }, size: 12 },
    });
    taskId = task.id;
    const build = await waitForJob(s.t, task.buildJobId);
    expect(build.status, build.error).toBe("succeeded");
    me = (await s.gql(`{ viewer { id } }`)).viewer.id;
    bobToken = await newUserToken(s.t, "bob@example.com");
    await s.gql(`mutation($p: ID!) { setMembership(projectId: $p, email: "bob@example.com", role: editor) { role } }`, { p: projectId });
    bobId = (await s.t.app.db.query("SELECT id FROM users WHERE email = 'bob@example.com'"))[0].id;
    await s.openLab("labelling-ui");
  }, 300_000);
  afterEach(async (ctx) => {
    await s.shotIfFailed(ctx);
    // A form or refusal a failed test left open would cover the tree for the next tests.
    for (let i = 0; i < 3 && s.page && (await s.page.locator(".jp-Dialog").count()) > 0; i++) await s.page.keyboard.press("Escape");
  });
  afterAll(() => s.stop(), 120_000);

  it("lists the task in the tree and opens it on a card with the class buttons and the progress", async () => {
    // The notebook the lab opens with must not take the front after our panel opened.
    await s.page.locator(".jp-Notebook .jp-Cell").first().waitFor({ timeout: 60_000 });
    const node = s.treeNode("labellingTask", taskId);
    await node.waitFor({ timeout: 30_000 });
    await expect.poll(() => node.textContent()).toContain("species-check");
    await node.click();
    await card().waitFor({ timeout: 60_000 });
    expect(await panel().locator(".ouro-lq-class").allTextContents()).toEqual(["1Adelie", "2Chinstrap", "3Gentoo"]);
    // The card shows the row's fields, as stored in the queue.
    const shownId = await cardItem();
    const shown = (await serverItems()).find((i) => i.id === shownId)!;
    expect(await card().locator("dt").allTextContents()).toEqual(Object.keys(shown.values));
    expect(await card().locator("dd").allTextContents()).toContain(shown.values.Species);
    expect(await card().getAttribute("data-ouro-row")).toBe(String(shown.rowIndex));
    await expect.poll(() => panel().locator("[data-ouro-progress]").getAttribute("data-ouro-total"), { timeout: 30_000 }).toBe("12");
    expect(await panel().locator("[data-ouro-progress]").getAttribute("data-ouro-labelled")).toBe("0");
    await s.shot("card");
  });

  it("labels five rows with number keys, skips one with S, goes back with ← and changes a label", async () => {
    await focusPanel();
    for (const key of ["1", "2", "3", "1", "2"]) {
      const item = await pressAndMove(key);
      labelled.set(item, SPECIES[Number(key) - 1]);
    }
    skipped = await pressAndMove("s");
    // ← lands on the skipped row, ← again on the fifth labelled row, which shows its label.
    await s.page.keyboard.press("ArrowLeft");
    await expect.poll(cardItem).toBe(skipped);
    expect(await card().getAttribute("data-ouro-state")).toBe("skipped");
    await s.page.keyboard.press("ArrowLeft");
    changed = [...labelled.keys()][4];
    await expect.poll(cardItem).toBe(changed);
    expect(await card().getAttribute("data-ouro-state")).toBe("labelled");
    expect(await panel().locator(".ouro-lq-chosen").textContent()).toBe("2Chinstrap");
    await pressAndMove("3"); // Chinstrap → Gentoo, then on to the skipped row
    labelled.set(changed, "Gentoo");
    expect(await cardItem()).toBe(skipped);
    await pressAndMove("ArrowRight"); // keeps the skip, on to a new row
    expect(await card().getAttribute("data-ouro-state")).toBe("open");

    const items = await serverItems();
    const mine = items.flatMap((i) => i.labels.filter((l) => l.userId === me).map((l) => ({ id: i.id, ...l })));
    expect(mine.filter((l) => !l.skipped).map((l) => [l.id, l.value]).sort()).toEqual([...labelled].sort());
    expect(mine.filter((l) => l.skipped).map((l) => l.id)).toEqual([skipped]);
    expect(items.flatMap((i) => i.labels).every((l) => l.userId === me)).toBe(true);
  });

  it("shows the progress the server has, live", async () => {
    const progress = panel().locator("[data-ouro-progress]");
    await expect.poll(() => progress.getAttribute("data-ouro-labelled"), { timeout: 30_000 }).toBe("5");
    expect(await progress.getAttribute("data-ouro-skips")).toBe("1");
    expect(await progress.locator("[data-ouro-counts]").textContent()).toBe("5 / 12 rows labelled");
    expect(await progress.locator(".ouro-lab-labellers tbody tr").allTextContents()).toEqual(["you51"]);
    const server = (await s.gql(`query($t: ID!) { labellingTask(id: $t) { progress { labelledItems skips labels labellers { userId labels skips } } } }`, { t: taskId })).labellingTask.progress;
    expect(server).toEqual({ labelledItems: 5, skips: 1, labels: 5, labellers: [{ userId: me, labels: 5, skips: 1 }] });
    // Class counts: Adelie ×2, Chinstrap ×1 (the changed one is Gentoo now), Gentoo ×2.
    await expect.poll(() => panel().locator(".ouro-lab-classes tbody tr").allTextContents(), { timeout: 30_000 }).toEqual(["Adelie22", "Chinstrap11", "Gentoo22"]);
  });

  it("shows the shortcut help on ?, and keys pressed in the notebook do nothing here", async () => {
    await focusPanel();
    await s.page.keyboard.press("?");
    const help = panel().locator(".ouro-lq-help");
    await help.waitFor({ state: "visible", timeout: 10_000 });
    expect(await help.textContent()).toContain("back to the previous row");
    await s.shot("help");
    await s.page.keyboard.press("Escape");
    await help.waitFor({ state: "hidden", timeout: 10_000 });

    const before = await cardItem();
    // The notebook the lab opened with: its tab, then its cell's editor, then "1".
    await s.page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab:has-text("ui.ipynb")').click();
    await s.page.locator(".jp-Notebook .jp-Cell .cm-content").first().click();
    await s.page.keyboard.press("1");
    await tab().click();
    await card().waitFor();
    expect(await cardItem()).toBe(before);
    const labels = (await serverItems()).flatMap((i) => i.labels);
    expect(labels).toHaveLength(6);
  });

  it("keeps the card and the choice when the server refuses a label, and says why", async () => {
    await focusPanel();
    refusedItem = await cardItem();
    // Another labeller fills the row first (one label per row): ours is then a conflict.
    const r = await s.t.gql(`mutation($i: ID!) { submitLabel(itemId: $i, value: { class: "Adelie" }) { userId } }`, { i: refusedItem }, bobToken);
    expect(r.data?.submitLabel.userId).toBe(bobId);
    await s.page.keyboard.press("2");
    const notice = panel().locator('[data-ouro-notice="error"]');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toMatch(/Not saved: .*already has its 1 label/);
    expect(await cardItem()).toBe(refusedItem);
    expect(await panel().locator(".ouro-lq-chosen").textContent()).toBe("2Chinstrap");
    await s.shot("refused");
    const row = (await serverItems()).find((i) => i.id === refusedItem)!;
    expect(row.labels.map((l) => [l.userId, l.value])).toEqual([[bobId, "Adelie"]]);
    // S still passes on the row.
    await pressAndMove("s");
  });

  it("saves the labels as a dataset version after confirmation, with lineage to the source", async () => {
    await panel().locator('[data-ouro-action="export"]').click();
    await s.page.locator(".jp-Dialog").waitFor();
    expect(await s.page.locator('.jp-Dialog input[name="dataset"]').inputValue()).toBe("species-check-labels");
    await s.confirm();
    const saved = panel().locator(".ouro-lab-saved");
    await saved.waitFor({ timeout: 120_000 });
    const exported = (await saved.getAttribute("data-ouro-export"))!;
    const datasetId = (await saved.getAttribute("data-ouro-dataset"))!;
    await s.shot("saved");

    const v = (await s.gql(`query($v: ID!) { datasetVersion(id: $v) { datasetId rowCount parentVersionIds source schema { name } } }`, { v: exported })).datasetVersion;
    expect(v.datasetId).toBe(datasetId);
    expect(v.parentVersionIds).toEqual([versionId]);
    expect(v.source).toMatchObject({ kind: "labelling", taskId, labelColumn: "label" });
    expect(v.schema.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(["Species", "label", "label_votes"]));
    expect(v.rowCount).toBe(344);
    const lineage = (await s.gql(`query($id: ID!) { lineage(id: $id) { edges { from to relation } } }`, { id: exported })).lineage;
    expect(lineage.edges).toContainEqual({ from: versionId, to: exported, relation: "derived" });
    // Each row the panel labelled carries its label (the changed one too); the skipped row none.
    const rowOf = new Map((await serverItems()).map((i) => [i.id, i.rowIndex]));
    const exportedRow = async (index: number) => (await s.gql(`query($v: ID!, $o: Int!) { datasetVersion(id: $v) { preview(offset: $o, limit: 1) { rows } } }`, { v: exported, o: index })).datasetVersion.preview.rows[0];
    for (const [item, label] of labelled) expect((await exportedRow(rowOf.get(item)!)).label, `row ${rowOf.get(item)}`).toBe(label);
    expect((await exportedRow(rowOf.get(skipped)!)).label).toBeNull();
    expect((await exportedRow(rowOf.get(refusedItem)!)).label).toBe("Adelie");
    expect((await exportedRow(rowOf.get(changed)!)).label).toBe("Gentoo");

    // The link opens the new version's dataset.
    await saved.locator('[data-ouro-action="open-export"]').click();
    await s.panel("dataset", datasetId).locator(".ouro-panel-body h3").first().waitFor({ timeout: 30_000 });
    await s.shot("dataset-view");
  });

  it("says the task is gone when it is deleted under the open panel", async () => {
    await tab().click();
    await focusPanel();
    await s.t.app.db.query("DELETE FROM labelling_tasks WHERE id = $1", [taskId]);
    await s.page.keyboard.press("1");
    const gone = panel().locator('[data-ouro-error="not-found"]');
    await gone.waitFor({ timeout: 30_000 });
    expect(await gone.textContent()).toContain("was not found");
    expect(await panel().locator(".ouro-lq-card").count()).toBe(0);
    await s.shot("deleted");
  });

  /** "Label…" on the penguins node: the new-task form, open. */
  async function openForm(): Promise<Locator> {
    const penguins = s.sidebar().locator('[data-ouro-kind="dataset"]').filter({ has: s.page.locator(".ouro-node-label", { hasText: /^penguins$/ }) });
    await penguins.hover(); // the button shows on the row under the pointer
    await penguins.locator('[data-ouro-action="new-labelling-task"]').click();
    const dialog = s.page.locator('.jp-Dialog:has([name="kind"])');
    await dialog.waitFor();
    return dialog;
  }
  /** The form filled in (a select by value or shown text, in the order given) and confirmed. */
  async function createFromTree(fields: Record<string, string>): Promise<void> {
    const dialog = await openForm();
    for (const [name, value] of Object.entries(fields)) {
      const field = dialog.locator(`[name="${name}"]`);
      if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
      else await field.fill(value);
    }
    // Not s.confirm(): a refusal opens its own dialog at once, so no .jp-Dialog goes away.
    await dialog.locator(".jp-mod-accept").click();
    await dialog.waitFor({ state: "detached", timeout: 15_000 });
  }
  /** The form's picker for `name` (model, fromTask): what it offers, whether it shows and can be used. */
  async function pickerState(dialog: Locator, name: string) {
    const select = dialog.locator(`select[name="${name}"]`);
    // Read at once (no waiting): a form without the picker fails on what it shows.
    const enabled = await select.evaluateAll((els) => els.some((el) => !(el as unknown as { disabled: boolean }).disabled));
    return { visible: await select.isVisible(), enabled, options: (await select.locator("option").allTextContents()).map((o) => o.trim()) };
  }
  async function cancelForm(dialog: Locator): Promise<void> {
    await dialog.locator(".jp-mod-reject").click();
    await dialog.waitFor({ state: "detached", timeout: 15_000 });
  }
  const tasksNamed = async (name: string) =>
    ((await s.gql(`query($p: ID!) { labellingTasks(projectId: $p, first: 50) { nodes { id name labelSchema { kind classes min max } size } } }`, { p: projectId })).labellingTasks.nodes as { id: string; name: string; labelSchema: any; size: number }[]).filter((t) => t.name === name);
  const taskPanel = (id: string) => s.panel("labellingTask", id);

  it("shows the model and earlier-task pickers only with their strategy, and says when the project has none", async () => {
    const dialog = await openForm();
    expect((await pickerState(dialog, "model")).visible).toBe(false);
    expect((await pickerState(dialog, "fromTask")).visible).toBe(false);
    await dialog.locator('[name="strategy"]').selectOption("leastConfident");
    expect(await pickerState(dialog, "model")).toEqual({ visible: true, enabled: false, options: ["no registered models in this project"] });
    expect((await pickerState(dialog, "fromTask")).visible).toBe(false);
    await s.shot("create-no-models");
    // species-check, the one task over penguins v1, was deleted above.
    await dialog.locator('[name="strategy"]').selectOption("disagreement");
    expect((await pickerState(dialog, "model")).visible).toBe(false);
    expect(await pickerState(dialog, "fromTask")).toEqual({ visible: true, enabled: false, options: ["no earlier labelling task on this dataset version"] });
    await cancelForm(dialog);
  });

  it("creates a task from the tree; a schema the server refuses creates nothing and says why", async () => {
    // One class is not a classification: refused before anything is written.
    await createFromTree({ name: "one-class", kind: "classes", classes: "Adelie", size: "5" });
    const error = s.page.locator(".jp-Dialog");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/Labelling task not created.*2 to 1000 classes/s);
    await s.shot("create-refused");
    await error.locator(".jp-Dialog-footer button").last().click();
    await error.waitFor({ state: "detached" });
    expect(await tasksNamed("one-class")).toEqual([]);

    // Multi-label: number keys toggle, Enter submits the set.
    await createFromTree({ name: "traits", kind: "multiLabel", classes: "heavy, long beak, island Biscoe", size: "5" });
    await expect.poll(async () => (await tasksNamed("traits")).length, { timeout: 30_000 }).toBe(1);
    const [task] = await tasksNamed("traits");
    expect(task).toMatchObject({ labelSchema: { kind: "multiLabel", classes: ["heavy", "long beak", "island Biscoe"] }, size: 5 });
    const view = taskPanel(task.id);
    const multiCard = view.locator(".ouro-lq-card");
    await multiCard.waitFor({ timeout: 90_000 }); // after the build job
    await multiCard.click({ position: { x: 5, y: 5 } });
    const item = (await multiCard.getAttribute("data-ouro-item"))!;
    await s.page.keyboard.press("1");
    await s.page.keyboard.press("3");
    await s.page.keyboard.press("1");
    await s.page.keyboard.press("1");
    await expect.poll(() => view.locator(".ouro-lq-chosen").allTextContents()).toEqual(["1heavy", "3island Biscoe"]);
    await s.shot("multi-label");
    await s.page.keyboard.press("Enter");
    await expect.poll(() => multiCard.getAttribute("data-ouro-item")).not.toBe(item);
    const stored = (await s.gql(ITEMS, { t: task.id })).labellingTask.items.find((i: { id: string }) => i.id === item).labels;
    expect(stored).toEqual([{ userId: me, value: ["heavy", "island Biscoe"], skipped: false }]);
  });

  it("labels a numeric task in its number field; a number out of range is refused and stays in the field", async () => {
    await createFromTree({ name: "mass-guess", kind: "numeric", range: "0, 10", size: "4" });
    await expect.poll(async () => (await tasksNamed("mass-guess")).length, { timeout: 30_000 }).toBe(1);
    const [task] = await tasksNamed("mass-guess");
    expect(task.labelSchema).toMatchObject({ kind: "numeric", min: 0, max: 10 });
    const view = taskPanel(task.id);
    const numCard = view.locator(".ouro-lq-card");
    await numCard.waitFor({ timeout: 90_000 });
    const item = (await numCard.getAttribute("data-ouro-item"))!;
    const input = view.locator(".ouro-lq-number");
    await input.click();
    // S typed in the field is text for the field, not "skip"; 42 is outside [0, 10].
    await s.page.keyboard.type("s42");
    await s.page.keyboard.press("Enter");
    await view.locator('[data-ouro-notice="error"]').waitFor({ timeout: 30_000 });
    expect(await view.locator('[data-ouro-notice="error"]').textContent()).toContain("outside this task's range [0, 10]");
    expect(await numCard.getAttribute("data-ouro-item")).toBe(item);
    expect(await input.inputValue()).toBe("42");
    await input.fill("7.5");
    await s.page.keyboard.press("Enter");
    await expect.poll(() => numCard.getAttribute("data-ouro-item")).not.toBe(item);
    const items = (await s.gql(ITEMS, { t: task.id })).labellingTask.items as { id: string; labels: unknown[] }[];
    expect(items.find((i) => i.id === item)!.labels).toEqual([{ userId: me, value: 7.5, skipped: false }]);
    expect(items.flatMap((i) => i.labels)).toHaveLength(1);
  });

  it("creates a least-confident task with a model version picked by name, ranked as the same selection made through the API", async () => {
    // Two registered versions of one model, each trained on body mass (nulls filled by a recipe).
    const recipe = (await s.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "mass", steps: $s) { id } }`, { p: projectId, s: [{ op: "fillNull", columns: ["Body Mass (g)"], strategy: "mean" }] })).createRecipe;
    const fit = await waitForJob(s.t, (await s.gql(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: versionId })).fitRecipe.id);
    expect(fit.status, fit.error).toBe("succeeded");
    const register = async (seed: number): Promise<string> => {
      const input = { projectId, datasetVersionId: versionId, recipeId: recipe.id, target: "Species", task: "multiclass", features: ["Body Mass (g)"], model: { kind: "logistic", epochs: 20 }, seed };
      const train = await waitForJob(s.t, (await s.gql(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: input })).trainModel.id);
      expect(train.status, train.error).toBe("succeeded");
      return (await s.gql(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguin-species" }) { id } }`, { r: train.result.runId })).registerModelVersion.id;
    };
    const v1 = await register(3);
    const v2 = await register(4);

    const dialog = await openForm();
    await dialog.locator('[name="strategy"]').selectOption("leastConfident");
    expect(await pickerState(dialog, "model")).toEqual({ visible: true, enabled: true, options: ["penguin-species v2", "penguin-species v1"] });
    expect(await dialog.locator('select[name="model"] option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual([v2, v1]);
    await s.shot("create-pick-model");
    await cancelForm(dialog);

    await createFromTree({ name: "unsure-v1", kind: "classes", classes: SPECIES.join(", "), strategy: "leastConfident", model: "penguin-species v1", size: "6" });
    await expect.poll(async () => (await tasksNamed("unsure-v1")).length, { timeout: 30_000 }).toBe(1);
    const [task] = await tasksNamed("unsure-v1");
    const made = (await s.gql(`query($t: ID!) { labellingTask(id: $t) { selection status error } }`, { t: task.id })).labellingTask;
    expect(made.selection).toMatchObject({ strategy: "leastConfident", modelVersionId: v1 });
    await taskPanel(task.id).locator(".ouro-lq-card").waitFor({ timeout: 90_000 }); // after the build job

    // The same selection through the API queues the same rows, least confident first.
    const { createLabellingTask: same } = await s.gql(`mutation($i: CreateLabellingTaskInput!) { createLabellingTask(input: $i) { id buildJobId } }`, {
      i: { projectId, name: "unsure-api", source: { datasetVersionId: versionId }, labelSchema: { kind: "classes", classes: SPECIES }, selection: { strategy: "leastConfident", modelVersionId: v1 }, size: 6 },
    });
    expect((await waitForJob(s.t, same.buildJobId)).status).toBe("succeeded");
    const queue = async (id: string) => (await s.gql(`query($t: ID!) { labellingTask(id: $t) { items(limit: 10) { rowIndex score } } }`, { t: id })).labellingTask.items as { rowIndex: number; score: number }[];
    const fromForm = await queue(task.id);
    expect(fromForm).toHaveLength(6);
    expect(fromForm.map((i) => i.score)).toEqual([...fromForm.map((i) => i.score)].sort((a, b) => a - b));
    expect(fromForm.map((i) => i.rowIndex)).toEqual((await queue(same.id)).map((i) => i.rowIndex));

    // Disagreement offers the earlier tasks over this dataset version, newest first.
    const again = await openForm();
    await again.locator('[name="strategy"]').selectOption("disagreement");
    expect(await pickerState(again, "fromTask")).toEqual({ visible: true, enabled: true, options: ["unsure-api", "unsure-v1", "mass-guess", "traits"] });
    await cancelForm(again);
  }, 300_000);
});
