import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { startTestOuro, type TestOuro } from "./ouro";

/**
 * What the JupyterLab UI tests share: Ouro on a known port, `jupyter lab` from .venv (with the
 * extension installed from its wheel by scripts/python-env.sh), Debian's chromium through
 * playwright-core, screenshots under test-output/<folder>/.
 */
export const ROOT = path.resolve(__dirname, "../..");
export const JUPYTER = path.join(ROOT, ".venv/bin/jupyter");
export const CHROMIUM = process.env.OURO_CHROMIUM ?? "/usr/bin/chromium";
export const DATA = path.join(ROOT, "node_modules/vega-datasets/data");

/** Fails early, with the fix, when the Python environment or the browser is missing. */
export function requireUiTools(): void {
  for (const [what, file, fix] of [
    [".venv with jupyterlab and the extension", JUPYTER, "run scripts/python-env.sh"],
    ["chromium", CHROMIUM, "apt-get install -y chromium (or set OURO_CHROMIUM)"],
  ]) {
    if (!existsSync(file)) throw new Error(`${what} is missing (${file}): ${fix}`);
  }
}

/** Ouro on a given port (so it can be restarted where the proxy expects it), with a worker. */
export function startOuroOn(port: number, label: string, databaseUrl?: string, env: Record<string, string> = {}): Promise<TestOuro> {
  return startTestOuro({ label, worker: true, databaseUrl, env: { OURO_PORT: String(port), OURO_HOST: "127.0.0.1", OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1", ...env } });
}

export async function launchBrowser(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (err) => console.log(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") console.log(`browser ${msg.type()}: ${msg.text()}`);
  });
  return { browser, page };
}

/** Numbered screenshots in one folder, listed at the end of the run. */
export class Screenshots {
  readonly files: string[] = [];
  constructor(readonly dir: string) {}

  async reset(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  async take(page: Page, name: string): Promise<void> {
    const file = path.join(this.dir, `${String(this.files.length + 1).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file });
    this.files.push(file);
    console.log(`screenshot: ${path.relative(ROOT, file)}`);
  }

  report(): void {
    if (this.files.length) console.log(`UI screenshots (${this.files.length}):\n${this.files.map((s) => `  ${path.relative(ROOT, s)}`).join("\n")}`);
  }
}

/**
 * One UI test file's world: Ouro (seeded by the caller through `t`), JupyterLab proxying to it
 * with its admin token, and a browser page logged in to JupyterLab with the sidebar open on the
 * given project.
 */
export class UiSession {
  readonly jupyterToken = randomBytes(16).toString("hex");
  readonly shots: Screenshots;
  t!: TestOuro;
  ouroPort!: number;
  base!: string; // http://127.0.0.1:<port>/
  page!: Page;
  private browser: Browser | undefined;
  private lab: { proc: ChildProcess; home: string } | undefined;

  constructor(readonly label: string) {
    this.shots = new Screenshots(path.join(ROOT, "test-output", label));
  }

  /** Starts Ouro; seed it through `t` before `openLab`. */
  async startOuro(env: Record<string, string> = {}): Promise<TestOuro> {
    requireUiTools();
    await this.shots.reset();
    this.ouroPort = await freePort();
    this.t = await startOuroOn(this.ouroPort, this.label, undefined, env);
    return this.t;
  }

  async gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.t.gql(query, variables, this.t.adminToken);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return r.data as T;
  }

  /** Starts JupyterLab and the browser, opens the lab and the Ouro sidebar on `projectName`. */
  async openLab(projectName: string, ouroEnv: Record<string, string> = {}): Promise<void> {
    const lab = await startJupyterLab({ OURO_URL: `http://127.0.0.1:${this.ouroPort}`, OURO_TOKEN: this.t.adminToken, ...ouroEnv }, this.jupyterToken);
    this.lab = lab;
    this.base = lab.base;
    ({ browser: this.browser, page: this.page } = await launchBrowser());
    await this.page.goto(`${this.base}lab/tree/ui.ipynb?token=${this.jupyterToken}`);
    await this.sidebar().waitFor({ state: "attached", timeout: 60_000 });
    // JupyterLab brings the notebook to the front when it has loaded; wait for that, or it could
    // cover the first view a test opens.
    await this.page.locator(".jp-NotebookPanel").first().waitFor({ timeout: 60_000 });
    await this.page.locator('.lm-TabBar-tab[data-id="ouro-sidebar"]').click();
    const select = this.sidebar().locator(".ouro-project-select");
    await select.waitFor({ timeout: 30_000 });
    const chosen = async () => (await select.locator("option:checked").textContent())?.trim();
    const deadline = Date.now() + 30_000;
    while ((await chosen()) !== projectName) {
      if (Date.now() > deadline) throw new Error(`the sidebar did not offer project ${projectName}`);
      await select.selectOption({ label: projectName }).catch(() => undefined);
      await this.page.waitForTimeout(250);
    }
  }

  sidebar(): Locator {
    return this.page.locator("#ouro-sidebar");
  }

  treeNode(kind: string, id: string): Locator {
    return this.sidebar().locator(`[data-ouro-kind="${kind}"][data-ouro-id="${id}"]`);
  }

  panel(kind: string, id: string): Locator {
    return this.page.locator(`.ouro-panel[data-ouro-kind="${kind}"][data-ouro-id="${id}"]`);
  }

  /** Clicks "OK"/the accept button of the JupyterLab confirmation dialog that is open. */
  async confirm(): Promise<void> {
    const dialog = this.page.locator(".jp-Dialog").last();
    await dialog.waitFor({ timeout: 15_000 });
    // This dialog going away is enough: the action may open another one (say, a refusal) at once.
    const handle = await dialog.elementHandle();
    await dialog.locator(".jp-mod-accept").click();
    await handle?.waitForElementState("hidden", { timeout: 15_000 });
  }

  shot(name: string): Promise<void> {
    return this.shots.take(this.page, name);
  }

  /** For afterEach: a failing step leaves a picture of what the browser showed. */
  async shotIfFailed(ctx: { task: { name: string; result?: { state?: string } } }): Promise<void> {
    if (ctx.task.result?.state === "fail" && this.page) await this.shot(`FAILED-${ctx.task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`).catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    if (this.lab) {
      await stopProcess(this.lab.proc);
      await rm(this.lab.home, { recursive: true, force: true });
    }
    await this.t?.stop();
    this.shots.report();
  }
}

/** `jupyter lab` from .venv, isolated from the user's Jupyter config, data and settings. */
export async function startJupyterLab(ouroEnv: Record<string, string>, token: string): Promise<{ proc: ChildProcess; base: string; home: string }> {
  const home = await mkdtemp(path.join(os.tmpdir(), "ouro-jupyter-"));
  const rootDir = path.join(home, "notebooks");
  await mkdir(rootDir);
  const notebook = { cells: [{ cell_type: "code", source: "# Ouro snippets land below", metadata: {}, outputs: [], execution_count: null }], metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } }, nbformat: 4, nbformat_minor: 5 };
  await writeFile(path.join(rootDir, "ui.ipynb"), JSON.stringify(notebook));
  // No "get Jupyter news?" toast over the screenshots.
  await mkdir(path.join(home, "settings/@jupyterlab/apputils-extension"), { recursive: true });
  await writeFile(path.join(home, "settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"), JSON.stringify({ fetchNews: "false" }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  let log = "";
  const proc = spawn(
    JUPYTER,
    ["lab", "--no-browser", `--ServerApp.port=${port}`, "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", "--allow-root", `--ServerApp.root_dir=${rootDir}`, `--IdentityProvider.token=${token}`, "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
    {
      env: {
        ...process.env,
        ...ouroEnv,
        HOME: home,
        JUPYTER_CONFIG_DIR: path.join(home, "config"),
        JUPYTER_DATA_DIR: path.join(home, "data"),
        JUPYTER_RUNTIME_DIR: path.join(home, "runtime"),
        JUPYTERLAB_SETTINGS_DIR: path.join(home, "settings"),
        JUPYTERLAB_WORKSPACES_DIR: path.join(home, "workspaces"),
        PATH: `${path.join(ROOT, ".venv/bin")}:${process.env.PATH}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  proc.stdout!.on("data", (d) => (log += d));
  proc.stderr!.on("data", (d) => (log += d));
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`JupyterLab exited with ${proc.exitCode}:\n${log}`);
    return (await fetch(`${base}api/status`, { headers: { authorization: `token ${token}` } }).catch(() => null))?.ok === true;
  }, 90_000, () => `JupyterLab did not start:\n${log}`);
  return { proc, base, home };
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGTERM");
  await exited;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(explain());
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
