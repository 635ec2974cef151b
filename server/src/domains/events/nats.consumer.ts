import { AckPolicy, type Consumer, type ConsumerMessages, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Viewer } from "../../platform/auth";
import { sql } from "../../platform/db";
import { OuroError } from "../../platform/errors";
import type { AppServices } from "../../platform/graphql/context";
import { type IngestResult, ingestorOf } from "./ingest.service";
import type { EventStreamEntity, StreamState } from "./nats.entity";
import { MAX_REJECTIONS_KEPT, redactUrl } from "./nats.service";
import { UNPARSEABLE } from "./validate";

/** A pull waits this long for a batch to fill before the consumer works with what it has. */
const FETCH_EXPIRES_MS = 1000;
/**
 * A pull that has not ended this long after its expiry is abandoned: while the connection is
 * down the client waits for it forever (its fetched, unacked messages are redelivered later).
 */
const FETCH_WATCHDOG_MS = FETCH_EXPIRES_MS + 4000;
const HEARTBEAT_MS = 2000;
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;
const EXCERPT_CHARS = 500;
// A pseudo user for the audit-free ingest call; the attach itself was authorised and audited.
const NO_USER = "00000000-0000-0000-0000-000000000000";

const describe = (err: unknown) => (err instanceof Error ? `${err.message}` : String(err));

/**
 * Reads one attached JetStream source with a durable pull consumer and feeds its events to the
 * ingest path (validation, dedup by event id, one transaction per batch).
 *
 * At-least-once: a batch's messages are acked only after its ingest transaction committed. A
 * crash or a lost connection between the commit and the ack gets them redelivered; the event-id
 * dedup then counts them as duplicates, so nothing is counted twice. Bad events (not JSON, not
 * the schema) are rejected by the ingest path, recorded with their reason and acked: never
 * redelivered. The durable consumer is created with max_ack_pending = the batch size, so a
 * redelivered batch comes before anything newer and events stay in stream order (late-event
 * rules would otherwise refuse old events redelivered after newer ones).
 *
 * Only the worker holding the source's advisory lock runs this (nats.worker.ts).
 */
export class StreamConsumer {
  private stopped = false;
  private nc: NatsConnection | null = null;
  private connected = false;
  private pull: ConsumerMessages | null = null;
  private wake: (() => void) | null = null;
  private consumer: Consumer | null = null;
  private state: StreamState = "starting";
  private lag: number | null = null;
  /** Batches applied so far: a consumer-info answer older than the last batch is stale. */
  private applied = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  readonly done: Promise<void>;

  constructor(
    private readonly app: AppServices,
    private readonly row: EventStreamEntity,
    private readonly servers: string[],
    private readonly host: string,
  ) {
    this.done = this.run();
  }

  /** Stops: a batch being ingested is finished and acked; a batch just fetched is handed back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pull?.stop();
    this.wake?.();
    await this.done;
  }

  private get where(): string {
    return `${this.row.streamName}/${this.row.durableName} on ${this.servers.map(redactUrl).join(", ")}`;
  }

  private async run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    await this.writeStatus({ state: "starting" });
    this.heartbeat = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = null));
    }, HEARTBEAT_MS);
    try {
      while (!this.stopped) {
        try {
          const nc = await this.connection();
          this.consumer = await this.ensureConsumer(nc);
          await this.writeStatus({ state: "connected" });
          backoff = MIN_BACKOFF_MS;
          await this.consumeLoop(nc, this.consumer);
        } catch (err) {
          if (this.stopped) break;
          const down = !this.nc || this.nc.isClosed() || !this.connected;
          const message = down ? `cannot reach NATS at ${this.servers.map(redactUrl).join(", ")}: ${describe(err)}` : `${this.where}: ${describe(err)}`;
          this.app.log.warn({ featureSetId: this.row.featureSetId, err: message }, "event stream consumer error; retrying");
          await this.writeStatus({ state: down ? "disconnected" : "error", error: message });
          await this.sleep(backoff);
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
      }
    } finally {
      if (this.heartbeat) clearInterval(this.heartbeat);
      await this.beating;
      await this.nc?.close().catch(() => undefined);
      // Nobody consumes it now (until another worker takes it over): say so at once.
      // (Unless another worker has taken it over already.)
      await this.app.db
        .query("UPDATE event_streams SET state = 'pending', consumer_host = NULL, status_at = now() WHERE id = $1 AND consumer_host = $2", [this.row.id, this.host])
        .catch(() => undefined);
    }
  }

  /** The connection, made once; the client reconnects by itself after that. */
  private async connection(): Promise<NatsConnection> {
    if (this.nc && !this.nc.isClosed()) {
      if (!this.connected) await this.waitForReconnect();
      return this.nc;
    }
    const nc = await connect({
      servers: this.servers,
      name: `ouro ${this.host} ${this.row.durableName}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5000,
      pingInterval: 10_000,
    });
    this.nc = nc;
    this.connected = true;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") {
          this.connected = false;
          this.pull?.stop(new Error("lost the connection to NATS"));
          void this.writeStatus({ state: "disconnected", error: `lost the connection to NATS at ${this.servers.map(redactUrl).join(", ")}; reconnecting` });
        } else if (s.type === "reconnect") {
          this.connected = true;
          void this.writeStatus({ state: this.state === "disconnected" ? "connected" : this.state });
          this.wake?.();
        }
      }
    })().catch(() => undefined);
    return nc;
  }

  private async waitForReconnect(): Promise<void> {
    while (!this.stopped && !this.connected && this.nc && !this.nc.isClosed()) await this.sleep(MAX_BACKOFF_MS);
    if (!this.connected) throw new Error("not connected");
  }

  /** The durable pull consumer, created when missing; one with another filter is refused. */
  private async ensureConsumer(nc: NatsConnection): Promise<Consumer> {
    const jsm = await jetstreamManager(nc);
    const { streamName, durableName, subjectFilter } = this.row;
    try {
      const info = await jsm.consumers.info(streamName, durableName);
      const filter = info.config.filter_subject ?? info.config.filter_subjects?.join(",") ?? null;
      if ((filter || null) !== subjectFilter) {
        throw new OuroError("BAD_USER_INPUT", `durable consumer ${durableName} already exists on stream ${streamName} with subject filter ${filter ?? "(none)"}, not ${subjectFilter ?? "(none)"}; detach and attach with another durableName`);
      }
      if (info.config.ack_policy !== AckPolicy.Explicit) throw new OuroError("BAD_USER_INPUT", `durable consumer ${durableName} must use explicit acks (it has ${info.config.ack_policy})`);
    } catch (err) {
      const name = (err as Error).name;
      if (name === "StreamNotFoundError") throw new Error(`stream ${streamName} not found`);
      if (name !== "ConsumerNotFoundError") throw err;
      await jsm.consumers.add(streamName, {
        durable_name: durableName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: this.row.startFrom === "new" ? DeliverPolicy.New : DeliverPolicy.All,
        ...(subjectFilter ? { filter_subject: subjectFilter } : {}),
        ack_wait: this.row.ackWaitSeconds * 1_000_000_000,
        max_ack_pending: this.row.batchSize,
      });
    }
    return jetstream(nc).consumers.get(streamName, durableName);
  }

  private async consumeLoop(nc: NatsConnection, consumer: Consumer): Promise<void> {
    while (!this.stopped) {
      if (!this.connected) await this.waitForReconnect();
      const batch = await this.fetch(consumer);
      if (batch.length === 0) continue;
      if (this.stopped || !(await this.stillAttached())) {
        // Stopping or detached: hand the batch back to the durable consumer at once (nak) so
        // whoever consumes next gets it without waiting for the ack wait.
        this.stopped = true;
        for (const m of batch) m.nak();
        await nc.flush().catch(() => undefined);
        return;
      }
      await this.handle(nc, batch);
    }
  }

  private async fetch(consumer: Consumer): Promise<JsMsg[]> {
    const pull = await consumer.fetch({ max_messages: this.row.batchSize, expires: FETCH_EXPIRES_MS });
    this.pull = pull;
    const out: JsMsg[] = [];
    const watchdog = setTimeout(() => pull.stop(new Error(`no answer from NATS within ${FETCH_WATCHDOG_MS} ms`)), FETCH_WATCHDOG_MS);
    try {
      for await (const m of pull) out.push(m);
    } finally {
      clearTimeout(watchdog);
      this.pull = null;
    }
    return out;
  }

  private async stillAttached(): Promise<boolean> {
    const rows = await sql(this.app.db, "SELECT 1 FROM event_streams WHERE id = $1", [this.row.id]);
    return rows.length > 0;
  }

  /** Ingests one batch, acks it after the commit, records counters and rejections. */
  private async handle(nc: NatsConnection, batch: JsMsg[]): Promise<void> {
    const texts = batch.map((m) => m.string());
    const events = texts.map((t) => {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return UNPARSEABLE;
      }
    });
    const viewer: Viewer = { userId: this.row.attachedById ?? NO_USER, tokenId: `event-stream:${this.row.id}`, isAdmin: true };
    let result: IngestResult;
    for (;;) {
      try {
        result = await ingestorOf(this.app).ingest(viewer, this.row.featureSetId, events);
        break;
      } catch (err) {
        if (err instanceof OuroError && err.code === "RATE_LIMITED" && !this.stopped) {
          // The process is at its ingest capacity: keep the batch (tell NATS we are on it) and retry.
          for (const m of batch) m.working();
          await this.sleep(this.app.config.events.retryAfterSeconds * 1000);
          continue;
        }
        // Not applied: have NATS redeliver the batch after a pause, and report the error.
        for (const m of batch) m.nak(MAX_BACKOFF_MS);
        throw err;
      }
    }
    for (const m of batch) m.ack();
    // The acks are on their way once flushed; if the connection drops first the batch is
    // redelivered and counted as duplicates.
    await nc.flush().catch(() => undefined);
    const last = batch[batch.length - 1];
    this.lag = last.info.pending;
    this.applied += 1;
    // The acks may have gone nowhere (the status then says so); the batch itself was applied.
    if (this.connected) this.state = "connected";
    // A message refused before and delivered again (a broker that lost our acks redelivers from
    // an older point) is a duplicate, as a redelivered good event is; it is not refused twice
    // (as long as its rejection is among the MAX_REJECTIONS_KEPT kept).
    const refusedBefore = new Set(
      result.rejected.length
        ? (
            await sql<{ seq: string }>(this.app.db, "SELECT stream_sequence::text AS seq FROM event_stream_rejections WHERE stream_id = $1 AND stream_sequence = ANY($2::bigint[])", [
              this.row.id,
              result.rejected.map((r) => batch[r.index].seq),
            ])
          ).map((r) => Number(r.seq))
        : [],
    );
    const rejected = result.rejected.filter((r) => !refusedBefore.has(batch[r.index].seq));
    const duplicates = result.duplicates + refusedBefore.size;
    const rejections = rejected.map((r) => ({
      stream_sequence: batch[r.index].seq,
      subject: batch[r.index].subject,
      event_id: r.eventId,
      reason: r.reason,
      excerpt: texts[r.index].slice(0, EXCERPT_CHARS),
    }));
    await this.app.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE event_streams SET messages = messages + $2, accepted = accepted + $3, duplicates = duplicates + $4, rejected = rejected + $5,
           last_sequence = GREATEST(coalesce(last_sequence, 0), $6), last_message_at = now(), lag = $7, state = $9, status_at = now(), consumer_host = $8
         WHERE id = $1`,
        [this.row.id, batch.length, result.accepted, duplicates, rejected.length, last.seq, this.lag, this.host, this.state],
      );
      if (rejections.length) {
        await tx.query(
          `INSERT INTO event_stream_rejections (stream_id, stream_sequence, subject, event_id, reason, excerpt)
           SELECT $1, stream_sequence, subject, event_id, reason, excerpt FROM jsonb_to_recordset($2::jsonb)
             AS r(stream_sequence bigint, subject text, event_id text, reason text, excerpt text)`,
          [this.row.id, JSON.stringify(rejections)],
        );
        await tx.query(
          `DELETE FROM event_stream_rejections WHERE stream_id = $1 AND id <= (
             SELECT id FROM event_stream_rejections WHERE stream_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
          [this.row.id, MAX_REJECTIONS_KEPT],
        );
      }
    });
  }

  /** Keeps the status fresh while idle or disconnected (lag from the consumer's info). */
  private async beat(): Promise<void> {
    if (this.stopped) return;
    if (this.connected && this.consumer && this.state === "connected") {
      try {
        const before = this.applied;
        const info = await this.consumer.info();
        // A batch applied meanwhile already set a newer lag (the info may still count its messages as unacked).
        if (this.applied === before) this.lag = info.num_pending + info.num_ack_pending;
      } catch {
        // The next fetch reports the problem.
      }
    }
    if (!this.stopped) await this.writeStatus({});
  }

  /** The last error stays visible (with its time) after a recovery; `state` says what holds now. */
  private async writeStatus(change: { state?: StreamState; error?: string }): Promise<void> {
    if (change.state) this.state = change.state;
    const setError = change.error !== undefined ? ", last_error = $4, last_error_at = now()" : "";
    try {
      await this.app.db.query(
        `UPDATE event_streams SET state = $2, lag = $3, status_at = now(), consumer_host = $${change.error !== undefined ? 5 : 4}${setError} WHERE id = $1`,
        change.error !== undefined ? [this.row.id, this.state, this.lag, change.error.slice(0, 1000), this.host] : [this.row.id, this.state, this.lag, this.host],
      );
    } catch (err) {
      this.app.log.warn({ featureSetId: this.row.featureSetId, err: describe(err) }, "could not record the event stream status");
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
