import path from "node:path";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Config } from "../../platform/config";
import { runInSubprocess } from "../../platform/subprocess";
import type { TaskContext, TaskHandlers } from "../../platform/tasks";
import { versionArtifact } from "../datasets/dataset.service";
import { triggerPipelinesOnAlert } from "../pipelines/pipeline.service";
import { AlertRuleEntity } from "./alert-rule.entity";
import { DELIVER_WEBHOOK } from "./alert.service";
import type { WindowSpec } from "./monitor.config";
import { EVALUATE_MONITOR, evaluateAndStore, type ExactKs } from "./monitor.service";
import type { RawKsInput, RawKsOutput } from "./reference-ks.work";
import { deliverWebhook } from "./webhook";

interface EvaluatePayload {
  monitorId: string;
  window: WindowSpec;
}

interface WebhookPayload {
  ruleId: string;
  eventSeq: string;
  body: string;
}

/**
 * `monitors.evaluate`: one window of one monitor (idempotent per window key).
 * `monitors.webhook`: one signed alert notification; a failure throws, and the queue retries
 * it with exponential backoff up to OURO_JOB_MAX_ATTEMPTS.
 */
const REFERENCE_KS_WORK = path.join(__dirname, "reference-ks.work.ts");

export function monitorTasks(config: Config, store: ArtifactStore): TaskHandlers {
  const evaluate = async (ctx: TaskContext<EvaluatePayload>) => {
    // KS against the raw reference column, read in a subprocess (polars blocks its thread).
    const exactKs: ExactKs = async (version, columns) => {
      const file = await store.localPath((await versionArtifact(ctx.db, version)).sha256);
      return runInSubprocess<RawKsInput, RawKsOutput[]>(REFERENCE_KS_WORK, "rawKs", { file, columns }, { signal: ctx.signal });
    };
    const { result, fired, created, note } = await evaluateAndStore(ctx.db, ctx.payload.monitorId, ctx.payload.window, ctx.jobId, config, exactKs);
    if (note) await ctx.note(note, "warn");
    // A starting alert may run pipelines (retraining). After commit, so a pipeline sees the alert.
    for (const alert of fired) {
      try {
        await triggerPipelinesOnAlert(ctx.db, alert);
      } catch (err) {
        await ctx.note(`alert ${alert.alertId}: pipelines not triggered: ${(err as Error).message}`, "warn");
      }
    }
    return { resultSeq: result.seq, windowKey: result.windowKey, status: result.status, driftScore: result.driftScore, predictions: result.predictions, created, alertsFired: fired.map((a) => a.alertId) };
  };
  const webhook = async (ctx: TaskContext<WebhookPayload>) => {
    const rule = await ctx.db.getRepository(AlertRuleEntity).findOneBy({ id: ctx.payload.ruleId, projectId: ctx.projectId });
    if (!rule?.webhookUrl || !rule.webhookSecret) return { delivered: false, reason: "the rule or its webhook is gone" };
    const status = await deliverWebhook(rule.webhookUrl, rule.webhookSecret, ctx.payload.body, { "x-ouro-delivery": ctx.jobId, "x-ouro-event": ctx.payload.eventSeq }, config.monitoring.webhookReach);
    return { delivered: true, status, attempt: ctx.attempt };
  };
  return { [EVALUATE_MONITOR]: evaluate as TaskHandlers[string], [DELIVER_WEBHOOK]: webhook as TaskHandlers[string] };
}
