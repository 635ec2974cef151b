import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import { badInput, OuroError } from "../../platform/errors";
import type { AppServices } from "../../platform/graphql/context";
import { signatureMatches, signDelivery, webhookSecret } from "./pipeline.secret";
import { createRun, webhookPipeline } from "./pipeline.service";

/** Deliveries older or newer than this are refused (replay protection, with the per-delivery key below). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
export const WEBHOOK_MAX_BODY = 64 * 1024;

const unauthorized = (message: string) => new OuroError("UNAUTHENTICATED", message);

/**
 * POST /v1/pipelines/{id}/webhook — starts a run of a pipeline that has a webhook trigger.
 * No API token: the credential is the pipeline's webhook secret. The sender puts the Unix
 * time in X-Ouro-Timestamp and X-Ouro-Signature: sha256=<hex HMAC-SHA256(secret,
 * "<timestamp>.<raw body>")>. A missing or wrong signature, or a timestamp more than five
 * minutes away, gets 401. The body is optional JSON {"params": {...}}. The same signed
 * delivery sent twice starts one run (202 with duplicate: true the second time).
 */
export function webhookHandler(app: AppServices) {
  return async (req: Request, res: Response): Promise<void> => {
    const pipeline = await webhookPipeline(app.db, String(req.params.id));
    const timestamp = req.header("x-ouro-timestamp") ?? "";
    const signature = req.header("x-ouro-signature") ?? "";
    if (!/^\d{1,12}$/.test(timestamp) || !signature) throw unauthorized("signed deliveries only: send X-Ouro-Timestamp and X-Ouro-Signature: sha256=<hex>");
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) throw unauthorized(`X-Ouro-Timestamp is more than ${WEBHOOK_TOLERANCE_SECONDS} seconds from the server's time`);
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const secret = await webhookSecret(app.db, app.config.secretKey, pipeline.id, pipeline.webhookSecretSalt!);
    if (!signatureMatches(signDelivery(secret, timestamp, body), signature)) throw unauthorized("the signature does not match");
    let params: Record<string, unknown> = {};
    if (body.length) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        throw badInput("the body must be JSON: {\"params\": {...}}");
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw badInput("the body must be a JSON object");
      const given = (parsed as { params?: unknown }).params;
      if (given !== undefined && (given === null || typeof given !== "object" || Array.isArray(given))) throw badInput("params must be an object");
      params = (given as Record<string, unknown> | undefined) ?? {};
    }
    const delivery = createHash("sha256").update(signature).digest("hex").slice(0, 32);
    const { run, created } = await app.db.transaction((tx) =>
      createRun(tx, pipeline, {
        trigger: { kind: "webhook", delivery, timestamp: Number(timestamp), remoteAddress: req.socket.remoteAddress ?? null },
        params,
        actorId: null,
        idempotencyKey: `webhook:${delivery}`,
        requestId: req.requestId,
      }),
    );
    res.status(202).json({ pipelineRunId: run.id, status: run.status, duplicate: !created });
  };
}
