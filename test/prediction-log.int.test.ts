import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { PredictionLog, type LoggedPrediction } from "../server/src/domains/deployments/serving/prediction-log";
import { freshDatabase, query } from "./helpers/db";

const silent = pino({ level: "silent" });

function row(deploymentId: string, requestId: string, inputs: unknown): LoggedPrediction {
  return { deploymentId, projectId: randomUUID(), requestId, modelVersionId: randomUUID(), role: "primary", inputs, outputs: { prediction: "a" }, latencyMs: 1.25, at: new Date() };
}

describe("the prediction log writer", () => {
  it("writes rows with COPY exactly as given, hostile text included", async () => {
    const url = await freshDatabase("plog");
    const log = new PredictionLog(url, silent, { maxBuffered: 1000, batchRows: 100, flushMs: 20 });
    log.start();
    const deployment = randomUUID();
    const hostile = [
      { text: "tab\there", nl: "line\nbreak\r\n", slash: "back\\slash \\N", quote: 'say "hi"', unicode: "ünïcødé 🐧", nul: "\\0" },
      { nested: { a: [1, 2, { b: "\\t" }] }, empty: "", n: -0.5e-10 },
    ];
    log.push(hostile.map((inputs, i) => row(deployment, `r${i}\t\\x`, inputs)));
    await log.drain();
    const back = await query<{ request_id: string; inputs: unknown; latency_ms: number }>(url, "SELECT request_id, inputs, latency_ms FROM prediction_log WHERE deployment_id = $1 ORDER BY seq", [deployment]);
    expect(back.map((r) => r.inputs)).toEqual(hostile);
    expect(back.map((r) => r.request_id)).toEqual(["r0\t\\x", "r1\t\\x"]);
    expect(back[0].latency_ms).toBeCloseTo(1.25);
    expect(log.stats()).toMatchObject({ written: 2, dropped: 0, failedBatches: 0 });
    await log.stop();
  });

  it("drops and counts what does not fit instead of growing, and never throws when the database is gone", async () => {
    // Port 1: nothing listens, so every write fails.
    const log = new PredictionLog("postgres://nobody@127.0.0.1:1/none", silent, { maxBuffered: 10, batchRows: 5, flushMs: 10 });
    log.start();
    const deployment = randomUUID();
    expect(() => log.push(Array.from({ length: 25 }, (_, i) => row(deployment, `q${i}`, { i })))).not.toThrow();
    await sleep(300);
    const stats = log.stats();
    expect(stats.written).toBe(0);
    expect(stats.failedBatches).toBeGreaterThan(0);
    expect(stats.buffered).toBeLessThanOrEqual(10);
    expect(stats.dropped + stats.buffered + stats.inFlight).toBe(25);
    await log.stop();
    expect(log.stats().dropped).toBe(25); // on stop, what could not be written is counted, not lost silently
  });
});
