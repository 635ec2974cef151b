import { EventEmitter } from "node:events";
import pg from "pg";
import type { Logger } from "./logger";

export const BUS_CHANNEL = "ouro_events";
const CHANNEL = BUS_CHANNEL;
// NOTIFY payloads must stay under 8000 bytes; larger events travel by reference (the topic
// alone) and subscribers read the rows from the database.
const MAX_INLINE_PAYLOAD = 7000;

export interface Notifier {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export interface BusMessage {
  topic: string;
  data?: unknown;
}

/**
 * Cross-process events over PostgreSQL LISTEN/NOTIFY. Publishing inside a transaction
 * delivers on commit, so a subscriber never hears of a row it cannot read yet. After a lost
 * connection every topic is told to resync: subscribers re-read from their cursor, so a
 * disconnect costs latency, not events.
 */
export class Bus {
  private readonly emitter = new EventEmitter();
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectDelay = 100;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  /** Publishes through `via` (a transaction or the pool). */
  static async publish(via: Notifier, topic: string, data?: unknown): Promise<void> {
    let payload = JSON.stringify({ topic, data });
    if (Buffer.byteLength(payload) > MAX_INLINE_PAYLOAD) payload = JSON.stringify({ topic });
    await via.query("SELECT pg_notify($1, $2)", [CHANNEL, payload]);
  }

  subscribe(topic: string, listener: (msg: BusMessage) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }

  /** Listeners of every topic, for resyncs. */
  onResync(listener: () => void): () => void {
    this.emitter.on("__resync", listener);
    return () => this.emitter.off("__resync", listener);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: "ouro-bus" });
    client.on("notification", (n) => {
      if (!n.payload) return;
      try {
        const msg = JSON.parse(n.payload) as BusMessage;
        this.emitter.emit(msg.topic, msg);
      } catch (err) {
        this.log.warn({ err }, "malformed bus message ignored");
      }
    });
    client.on("error", (err) => this.log.warn({ err: err.message }, "bus connection error"));
    client.on("end", () => {
      if (this.stopped) return;
      this.log.warn("bus connection lost; reconnecting");
      setTimeout(() => void this.reconnect(), this.reconnectDelay).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
    this.reconnectDelay = 100;
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.connect();
      this.emitter.emit("__resync");
    } catch {
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, 5000);
      setTimeout(() => void this.reconnect(), this.reconnectDelay).unref();
    }
  }
}
