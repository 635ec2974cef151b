import path from "node:path";
import vm from "node:vm";
import { rolldown } from "rolldown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOuro, type TestOuro } from "../../test/helpers/ouro";
import type * as Sdk from "./index";

/**
 * The SDK as a browser gets it: bundled for the browser platform, then run in a fresh V8
 * context that has only web globals (fetch, WebSocket, AbortSignal, timers, crypto) and no
 * `process`, `require` or Node module. It must still talk to a real server.
 */
describe("the SDK in a browser-like context", () => {
  let t: TestOuro;
  let code: string;
  let imports: string[];

  beforeAll(async () => {
    t = await startTestOuro({ label: "sdk-browser" });
    const bundle = await rolldown({ input: path.resolve(__dirname, "index.ts"), platform: "browser", logLevel: "silent" });
    const { output } = await bundle.generate({ format: "iife", name: "Ouro" });
    await bundle.close();
    code = output[0].code;
    imports = output[0].imports;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("bundles without Node built-ins", () => {
    expect(imports).toEqual([]);
    expect(code).not.toMatch(/\brequire\(\s*["'][^"']+["']\s*\)/);
    expect(code).not.toMatch(/["']node:[a-z_]+["']/);
  });

  it("runs with web globals only: requests, batched metrics and a live stream", async () => {
    const sandbox: Record<string, unknown> = {
      fetch,
      WebSocket: globalThis.WebSocket, // Node's built-in, WHATWG-compatible WebSocket, as in a browser
      AbortController,
      AbortSignal,
      DOMException,
      Response,
      Blob,
      URL,
      TextEncoder,
      TextDecoder,
      crypto: globalThis.crypto,
      console,
      queueMicrotask,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
    };
    vm.createContext(sandbox);
    vm.runInContext(code, sandbox);
    expect(vm.runInContext("typeof process === 'undefined' && typeof require === 'undefined'", sandbox)).toBe(true);
    const { OuroClient } = sandbox.Ouro as typeof Sdk;

    const client = new OuroClient({ url: t.url, token: t.adminToken });
    try {
      expect((await client.viewer()).email).toBe("admin@localhost");
      const project = await client.projects.create({ name: "browser" });
      const run = await client.runs.start(project.id, "in-a-tab", { batchSize: 200 });
      for (let i = 0; i < 1_000; i++) run.logMetric("loss", 1 / (i + 1));
      await run.finish();
      expect(run.stats).toMatchObject({ accepted: 1_000, batches: 5 });

      const steps: number[] = [];
      const stream = client.runs.metrics(run.id);
      for await (const point of stream) {
        steps.push(point.step);
        if (steps.length === 1_000) break;
      }
      expect(steps).toEqual(Array.from({ length: 1_000 }, (_, i) => i));

      // Uploads from a page: a Blob (what a File input gives) and bytes, over REST.
      const fromBlob = await client.datasets.uploadFile(project.id, vm.runInContext(`new Blob(["a,b\\n1,2\\n"], { type: "text/csv" })`, sandbox) as Blob, { filename: "tab.csv" });
      expect(fromBlob).toMatchObject({ name: "tab.csv", byteSize: 8 });
      const fromBytes = await client.datasets.uploadFile(project.id, new TextEncoder().encode("a,b\n1,2\n"), { filename: "tab.csv" });
      expect(fromBytes.sha256).toBe(fromBlob.sha256);
      const predictErr = await client.deployments.predict("nope", { a: 1 }).catch((e: unknown) => e);
      expect(predictErr).toMatchObject({ name: "OuroNotFoundError", code: "NOT_FOUND" });

      const err = await client.runs.get("00000000-0000-0000-0000-000000000000").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(vm.runInContext("Error", sandbox) as ErrorConstructor); // the context's own Error
      expect(err).toMatchObject({ name: "OuroNotFoundError", code: "NOT_FOUND" });
      expect(err).toBeInstanceOf((sandbox.Ouro as typeof Sdk).OuroApiError);
    } finally {
      await client.close();
    }
  });
});
