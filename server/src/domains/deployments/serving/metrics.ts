// The serving engine's figures on /metrics, read from the engine when scraped: nothing on
// the predict path touches prom-client. A process that has not served yet reports zeros
// (reading the gauges never starts the engine, so never loads TensorFlow.js).
import { Gauge, type Registry } from "prom-client";
import type { AppServices } from "../../../platform/graphql/context";
import { KERNELS } from "./kernel";
import { runningServing } from "./registry";

export function addServingGauges(registry: Registry, app: AppServices): void {
  const engine = () => runningServing(app);
  new Gauge({
    name: "ouro_serving_models_loaded",
    help: "Model versions loaded for serving in this process, by scoring kernel (dense-js: compiled Dense stack; tfjs: TensorFlow.js)",
    labelNames: ["kernel"],
    registers: [registry],
    collect() {
      const loaded = engine()?.loadedServables() ?? [];
      for (const kernel of KERNELS) this.set({ kernel }, loaded.filter((s) => s.kernel === kernel).length);
    },
  });
  new Gauge({
    name: "ouro_serving_model_kernel",
    help: "1 for each loaded model version, labelled with the kernel that scores it",
    labelNames: ["model_version_id", "model", "version", "kernel"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of engine()?.loadedServables() ?? []) this.set({ model_version_id: s.versionId, model: s.model, version: String(s.version), kernel: s.kernel }, 1);
    },
  });
  new Gauge({
    name: "ouro_serving_model_failures_total",
    help: "Predict requests that failed because the model threw while scoring (500, logged with the request id), by model version",
    labelNames: ["model_version_id"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [versionId, n] of engine()?.modelFailures ?? []) this.set({ model_version_id: versionId }, n);
    },
  });
  const counter = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  counter("ouro_serving_requests_total", "Predict requests answered by this process", () => engine()?.counters.requests ?? 0);
  counter("ouro_serving_rows_total", "Rows predicted by this process", () => engine()?.counters.rows ?? 0);
  counter("ouro_serving_overload_rejections_total", "Predict requests refused because the process was at its concurrency limit (503)", () => engine()?.counters.rejected ?? 0);
  counter("ouro_serving_shadow_failures_total", "Shadow-route scorings that failed (never seen by callers)", () => engine()?.counters.shadowFailures ?? 0);
  counter("ouro_prediction_log_written_total", "Prediction log rows written to PostgreSQL", () => engine()?.log.stats().written ?? 0);
  counter("ouro_prediction_log_dropped_total", "Prediction log rows dropped because the buffer was full", () => engine()?.log.stats().dropped ?? 0);
  counter("ouro_prediction_log_buffered", "Prediction log rows waiting to be written", () => engine()?.log.stats().buffered ?? 0);
}
