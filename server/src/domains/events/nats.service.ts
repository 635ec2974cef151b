import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import type { Config } from "../../platform/config";
import { type Db, sql } from "../../platform/db";
import { badInput, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { accessEventSource } from "./event-source.service";
import { EventStreamEntity, EventStreamRejectionEntity, type StartFrom } from "./nats.entity";

/** Workers listen on this bus topic to pick up attaches and detaches at once (they also poll). */
export const EVENT_STREAMS_TOPIC = "eventStreams";
/** A status older than this means no worker is consuming the source (the consumer writes every few seconds). */
export const STATUS_STALE_MS = 30_000;
/** Rejected messages kept per attachment. */
export const MAX_REJECTIONS_KEPT = 100;

// JetStream names: no whitespace, '.', '*', '>', path separators; we keep to a portable subset.
const NATS_NAME = /^[A-Za-z0-9_-]{1,64}$/;
// Subject tokens are separated by '.', '*' matches one token and '>' the rest (last token only).
const SUBJECT_TOKEN = /^[^\s.*>]+$/;

export interface AttachEventStream {
  streamName: string;
  subject?: string | null;
  durableName?: string | null;
  startFrom?: string | null;
  ackWaitSeconds?: number | null;
  batchSize?: number | null;
}

function checkSubject(subject: string): void {
  const tokens = subject.split(".");
  const ok =
    subject.length <= 255 &&
    tokens.every((t, i) => t === "*" || (t === ">" && i === tokens.length - 1) || SUBJECT_TOKEN.test(t));
  if (!ok) throw badInput(`subject "${subject.slice(0, 100)}": tokens separated by '.', '*' for one token, '>' for the rest (last token only), no spaces`, { field: "subject" });
}

/** A NATS URL for people: without user and password. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}

/**
 * Attaches a NATS JetStream source to an event feature set. Only the configuration is stored
 * here; a worker with OURO_NATS_URL picks it up (creating the durable pull consumer if it does
 * not exist) and reports its status on the row.
 */
export async function attachEventStream(
  db: Db,
  config: Config,
  viewer: Viewer,
  featureSetId: string,
  input: AttachEventStream,
  requestId?: string,
): Promise<EventStreamEntity> {
  const { featureSet, source } = await accessEventSource(db, viewer, featureSetId, "editor");
  const streamName = input.streamName.trim();
  if (!NATS_NAME.test(streamName)) throw badInput("streamName: 1 to 64 letters, digits, _ or -", { field: "streamName" });
  const durableName = (input.durableName ?? `ouro-${featureSet.name}`).trim();
  if (!NATS_NAME.test(durableName)) throw badInput("durableName: 1 to 64 letters, digits, _ or -", { field: "durableName" });
  const subject = input.subject?.trim() || null;
  if (subject !== null) checkSubject(subject);
  const startFrom = (input.startFrom ?? "first") as StartFrom;
  if (!["first", "new"].includes(startFrom)) throw badInput('startFrom: "first" (the stream\'s first message) or "new" (messages published from now on)', { field: "startFrom" });
  const ackWaitSeconds = input.ackWaitSeconds ?? 30;
  if (!Number.isInteger(ackWaitSeconds) || ackWaitSeconds < 1 || ackWaitSeconds > 3600) throw badInput("ackWaitSeconds: 1 to 3600", { field: "ackWaitSeconds" });
  const maxBatch = Math.min(10_000, config.events.maxEventsPerBatch);
  const batchSize = input.batchSize ?? Math.min(500, maxBatch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatch) throw badInput(`batchSize: 1 to ${maxBatch} (OURO_EVENTS_MAX_BATCH)`, { field: "batchSize" });
  if (config.nats.servers.length === 0) {
    throw badInput("NATS is not configured: set OURO_NATS_URL on the server and the workers to attach JetStream streams");
  }
  try {
    return await db.transaction(async (tx) => {
      const [attached] = await sql<{ stream_name: string; durable_name: string }>(tx, "SELECT stream_name, durable_name FROM event_streams WHERE feature_set_id = $1", [featureSetId]);
      if (attached) {
        throw new OuroError("CONFLICT", `feature set ${featureSet.name} already reads stream ${attached.stream_name} (durable ${attached.durable_name}); detach it first`);
      }
      const [taken] = await sql(tx, "SELECT 1 FROM event_streams WHERE stream_name = $1 AND durable_name = $2", [streamName, durableName]);
      if (taken) throw new OuroError("CONFLICT", `durable consumer ${durableName} of stream ${streamName} already feeds another feature set; choose another durableName`);
      const row = await tx.getRepository(EventStreamEntity).save(
        tx.getRepository(EventStreamEntity).create({
          featureSetId,
          projectId: source.projectId,
          streamName,
          subjectFilter: subject,
          durableName,
          startFrom,
          ackWaitSeconds,
          batchSize,
          attachedById: viewer.userId,
        }),
      );
      await recordAudit(tx, {
        projectId: source.projectId,
        actorId: viewer.userId,
        action: "featureSet.attachEventStream",
        targetType: "featureSet",
        targetId: featureSetId,
        data: { streamName, subject, durableName, startFrom, ackWaitSeconds, batchSize },
        requestId,
      });
      await Bus.publish(tx, EVENT_STREAMS_TOPIC);
      return tx.getRepository(EventStreamEntity).findOneByOrFail({ id: row.id });
    });
  } catch (err) {
    // Two attaches racing past the checks above meet the unique indexes.
    if ((err as { code?: string }).code === "23505") throw new OuroError("CONFLICT", `feature set ${featureSet.name} or durable ${durableName} of stream ${streamName} is already attached`);
    throw err;
  }
}

/**
 * Detaches the stream: the consumer stops before its next batch (a batch being ingested at
 * that moment is finished and acked). The durable consumer stays on the NATS server, so a
 * later attach with the same durable name resumes where this one stopped.
 */
export async function detachEventStream(db: Db, viewer: Viewer, featureSetId: string, requestId?: string): Promise<boolean> {
  const { featureSet, source } = await accessEventSource(db, viewer, featureSetId, "editor");
  return db.transaction(async (tx) => {
    const [gone] = await sql<{ stream_name: string; durable_name: string }>(tx, "DELETE FROM event_streams WHERE feature_set_id = $1 RETURNING stream_name, durable_name", [featureSetId]);
    if (!gone) throw badInput(`feature set ${featureSet.name} has no attached stream`);
    await recordAudit(tx, {
      projectId: source.projectId,
      actorId: viewer.userId,
      action: "featureSet.detachEventStream",
      targetType: "featureSet",
      targetId: featureSetId,
      data: { streamName: gone.stream_name, durableName: gone.durable_name },
      requestId,
    });
    await Bus.publish(tx, EVENT_STREAMS_TOPIC);
    return true;
  });
}

/** The attached stream of a feature set the caller may already read, or null. */
export function streamOf(db: Db, featureSetId: string): Promise<EventStreamEntity | null> {
  return db.getRepository(EventStreamEntity).findOneBy({ featureSetId });
}

/** The newest rejected messages of an attachment, newest first. */
export function rejectionsOf(db: Db, streamId: string, limit: number): Promise<EventStreamRejectionEntity[]> {
  const n = Math.max(0, Math.min(MAX_REJECTIONS_KEPT, Math.trunc(limit)));
  return db.getRepository(EventStreamRejectionEntity).find({ where: { streamId }, order: { id: "DESC" }, take: n });
}
