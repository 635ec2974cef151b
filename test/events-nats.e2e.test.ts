import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../server/src/platform/config";
import { createProject, newUserToken, startTestOuro, type TestOuro } from "./helpers/ouro";

// Consumption of event feature sets from NATS JetStream, against a real nats-server (Debian's
// package; the test starts its own with a store directory of its own) and real PostgreSQL.

function findNatsServer(): string | null {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/bin", "/usr/local/bin"];
  for (const d of dirs) if (d && existsSync(path.join(d, "nats-server"))) return path.join(d, "nats-server");
  return null;
}
const NATS_BIN = findNatsServer();
const IS_ROOT = process.getuid?.() === 0;
// CI runs as root and scripts/test.sh installs nats-server there: never skip in CI.
const SKIP = NATS_BIN === null && !IS_ROOT;
if (SKIP) console.warn("events-nats.e2e: skipped — nats-server is not installed (apt-get install nats-server) and we are not root to install it");

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A nats-server with JetStream on its own port and store directory. */
class NatsServer {
  private child: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}
  get url() {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    if (!NATS_BIN) throw new Error("nats-server not found: scripts/test.sh installs it (apt-get install nats-server)");
    const child = spawn(NATS_BIN, ["-js", "-sd", this.storeDir, "-p", String(this.port), "-a", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${out}`)), 20_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/Server is ready/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${out}`));
      });
    });
  }
  /** SIGKILL: no goodbye to the clients, like a crashed broker. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}

// Events derived from vega-datasets' seattle-weather.csv: one per day's row, keyed by the
// weather type, 7 minutes apart, in time order.
interface Weather {
  id: string;
  weather: string;
  ts: string;
  precipitation: number;
  wind: number;
}
const CSV = path.resolve(__dirname, "../node_modules/vega-datasets/data/seattle-weather.csv");
const BASE = Math.floor((Date.now() - 10 * 86_400_000) / 60_000) * 60_000 + 11_000;
const STEP = 7 * 60_000 + 977;
function weatherEvents(): Weather[] {
  const [, ...lines] = readFileSync(CSV, "utf8").trim().split("\n");
  return lines.map((line, i) => {
    const [date, precipitation, , , wind, weather] = line.split(",");
    return { id: `w-${date}`, weather, ts: new Date(BASE + i * STEP).toISOString(), precipitation: Number(precipitation), wind: Number(wind) };
  });
}
const FIELDS = [
  { name: "weather", type: "string" },
  { name: "precipitation", type: "float" },
  { name: "wind", type: "float" },
];
const AGGREGATIONS = [
  { name: "events_1h", function: "count", window: "1h" },
  { name: "events_30d", function: "count", window: "30d" },
  { name: "precip_1d", function: "sum", field: "precipitation", window: "1d" },
  { name: "wind_last_1d", function: "last", field: "wind", window: "1d" },
];

/** The window definition computed naively from the raw events, as of the entity's latest event. */
function expected(events: Weather[], entity: string): Record<string, number> {
  const mine = events.filter((e) => e.weather === entity).sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const asOf = Date.parse(mine[mine.length - 1].ts);
  const minute = (ms: number) => Math.floor(ms / 60_000);
  const within = (w: number) => mine.filter((e) => minute(Date.parse(e.ts)) >= minute(asOf) - (w - 1));
  return {
    events_1h: within(60).length,
    events_30d: within(43_200).length,
    precip_1d: within(1440).reduce((s, e) => s + e.precipitation, 0),
    wind_last_1d: within(1440).at(-1)!.wind,
  };
}

const STREAM_FIELDS = `id streamName subject durableName state connected consumerHost lag lastError lastErrorAt lastSequence messages accepted duplicates rejected`;

describe.skipIf(SKIP)("events from NATS JetStream", () => {
  let nats: NatsServer;
  let t: TestOuro;
  let t2: TestOuro | undefined;
  // A second worker process on the same database: the two compete for every source.
  let rival: TestOuro;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let projectId: string;
  let fsId: string;
  const events = weatherEvents();
  const entities = [...new Set(events.map((e) => e.weather))].sort();

  async function gqlData(ouro: TestOuro, query: string, variables: Record<string, unknown>, token?: string) {
    const r = await ouro.gql(query, variables, token);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  const attach = (ouro: TestOuro, id: string, input: Record<string, unknown>, token?: string) =>
    ouro.gql(`mutation($f: ID!, $i: AttachEventStreamInput!) { attachEventStream(featureSetId: $f, input: $i) { ${STREAM_FIELDS} } }`, { f: id, i: input }, token);
  const streamStatus = async (ouro: TestOuro, id: string) => (await gqlData(ouro, `query($f: ID!) { eventSource(featureSetId: $f) { stream { ${STREAM_FIELDS} } } }`, { f: id })).stream;
  /** Polls the stream's status until `ok` holds (60 s at most). */
  async function waitForStream(ouro: TestOuro, id: string, ok: (s: any) => boolean, what: string): Promise<any> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await streamStatus(ouro, id);
      if (s && ok(s)) return s;
      if (Date.now() > deadline) {
        const logs = ouro.logs.filter((l) => /stream/i.test(l)).slice(-15).join("");
        throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(s)}\nlogs:\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const online = async () =>
    (await gqlData(t, `query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key values } }`, { f: fsId, k: entities })) as { key: string; values: Record<string, number> }[];
  const stored = async () => Number((await t.app.db.query("SELECT count(*)::int AS n FROM events WHERE feature_set_id = $1", [fsId]))[0].n);
  /**
   * Publishes in order, each acked by JetStream. Right after a broker restart a publish may
   * time out before the client is back: it is retried with the same message id, which
   * JetStream's own duplicate window drops if the first attempt did land.
   */
  const publish = async (subject: string, items: (Weather | string)[]) => {
    for (const e of items) {
      const msgID = randomUUID();
      for (let attempt = 1; ; attempt++) {
        try {
          await js.publish(subject, typeof e === "string" ? e : JSON.stringify(e), { msgID });
          break;
        } catch (err) {
          if (attempt >= 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  };
  function expectOnline(got: { key: string; values: Record<string, number> }[], sent: Weather[]) {
    for (const o of got) {
      const want = expected(sent, o.key);
      for (const [k, v] of Object.entries(want)) {
        if (k === "precip_1d") expect(Math.abs(o.values[k] - v), `${o.key} ${k}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
        else expect(o.values[k], `${o.key} ${k}`).toBe(v);
      }
    }
  }

  beforeAll(async () => {
    nats = new NatsServer(await freePort(), await mkdtemp(path.join(os.tmpdir(), "ouro-nats-")));
    await nats.start();
    t = await startTestOuro({ label: "events_nats", worker: true, env: { OURO_NATS_URL: nats.url } });
    projectId = await createProject(t, "streams");
    const r = await t.gql(`mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId } }`, {
      i: { projectId, name: "weather", entityKeys: ["weather"], eventTimeColumn: "ts", eventIdColumn: "id", fields: FIELDS, aggregations: AGGREGATIONS },
    });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    fsId = r.data.createEventFeatureSet.featureSetId;
    rival = await startTestOuro({ databaseUrl: t.databaseUrl, worker: true, env: { OURO_NATS_URL: nats.url } });
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "WEATHER", subjects: ["weather.>"], storage: StorageType.File });
  }, 120_000);

  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    await t2?.stop();
    await rival?.stop();
    await t?.stop();
    await nats?.kill();
  });

  it("refuses bad attachments, viewers and other projects, and writes nothing", async () => {
    const good = { streamName: "WEATHER", subject: "weather.events", durableName: "ouro-weather" };
    const tries: [Record<string, unknown>, RegExp][] = [
      [{ streamName: "WEATHER STREAM" }, /streamName/],
      [{ streamName: "" }, /streamName/],
      [{ durableName: "a.b" }, /durableName/],
      [{ subject: "weather..events" }, /subject/],
      [{ subject: "weather.>.x" }, /subject/],
      [{ subject: "weather events" }, /subject/],
      [{ ackWaitSeconds: 0 }, /ackWaitSeconds/],
      [{ batchSize: 1_000_000 }, /batchSize/],
      [{ startFrom: "middle" }, /startFrom/],
    ];
    for (const [change, message] of tries) {
      const r = await attach(t, fsId, { ...good, ...change });
      expect(r.errors?.[0].extensions?.code, JSON.stringify(change)).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0].message).toMatch(message);
    }
    // A viewer may not attach; an editor of another project does not see the feature set.
    const viewerToken = await newUserToken(t, "viewer@example.com");
    await t.gql(`mutation($p: ID!) { setMembership(projectId: $p, email: "viewer@example.com", role: viewer) { role } }`, { p: projectId });
    const outsiderToken = await newUserToken(t, "outsider@example.com");
    const otherProject = await createProject(t, "other");
    await t.gql(`mutation($p: ID!) { setMembership(projectId: $p, email: "outsider@example.com", role: editor) { role } }`, { p: otherProject });
    expect((await attach(t, fsId, good, viewerToken)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect((await attach(t, fsId, good, outsiderToken)).errors?.[0].extensions?.code).toBe("NOT_FOUND");
    expect((await attach(t, "00000000-0000-4000-8000-000000000000", good)).errors?.[0].extensions?.code).toBe("NOT_FOUND");
    expect((await t.gql(`mutation($f: ID!) { detachEventStream(featureSetId: $f) }`, { f: fsId }, outsiderToken)).errors?.[0].extensions?.code).toBe("NOT_FOUND");
    expect((await t.gql(`mutation($f: ID!) { detachEventStream(featureSetId: $f) }`, { f: fsId }, viewerToken)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
    expect(await t.app.db.query("SELECT 1 FROM event_streams")).toHaveLength(0);
    // A malformed OURO_NATS_URL stops the process at start with a clear message.
    expect(() => readConfig({ OURO_NATS_URL: "http://127.0.0.1:4222" })).toThrow(/OURO_NATS_URL: "http:\/\/127.0.0.1:4222" is not a nats:\/\/ or tls:\/\/ URL/);
    expect(() => readConfig({ OURO_NATS_URL: "nats://a:b@127.0.0.1:4222, nonsense" })).toThrow(/OURO_NATS_URL: "nonsense"/);
    expect(readConfig({ OURO_NATS_URL: "nats://127.0.0.1:4222,tls://n2:4443" }).nats.servers).toEqual(["nats://127.0.0.1:4222", "tls://n2:4443"]);
  });

  it("consumes published events into the online store, and counts resent ids once", async () => {
    const r = await attach(t, fsId, { streamName: "WEATHER", subject: "weather.events", durableName: "ouro-weather", ackWaitSeconds: 5, batchSize: 50 });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    expect(r.data.attachEventStream).toMatchObject({ streamName: "WEATHER", subject: "weather.events", durableName: "ouro-weather", messages: 0, accepted: 0 });
    const audit = await t.app.db.query("SELECT action, data FROM audit_events WHERE target_id = $1 AND action = 'featureSet.attachEventStream'", [fsId]);
    expect(audit).toHaveLength(1);
    expect(audit[0].data).toMatchObject({ streamName: "WEATHER", durableName: "ouro-weather" });
    // One source, one attachment: a second attach, or another feature set on the same durable, conflicts.
    expect((await attach(t, fsId, { streamName: "WEATHER" })).errors?.[0].extensions?.code).toBe("CONFLICT");

    const first = events.slice(0, 700);
    await publish("weather.events", first);
    // Outside the subject filter: never consumed.
    await publish("weather.other", [JSON.stringify({ id: "elsewhere" })]);
    const s = await waitForStream(t, fsId, (x) => x.accepted === 700 && x.lag === 0, "700 events accepted");
    expect(s).toMatchObject({ state: "connected", connected: true, messages: 700, duplicates: 0, rejected: 0 });
    expect(s.consumerHost).toBeTruthy();
    expect(await stored()).toBe(700);
    const before = await online();
    expect(before.map((o) => o.key)).toEqual(entities);
    expectOnline(before, first);

    // Two workers compete for the source; exactly one holds its lock and consumes.
    const [locks] = await t.app.db.query(
      `SELECT count(DISTINCT a.pid)::int AS workers, count(l.pid) FILTER (WHERE l.locktype = 'advisory' AND l.granted)::int AS held
       FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid
       WHERE a.application_name = 'ouro-event-streams' AND a.datname = current_database()`,
    );
    expect(locks).toEqual({ workers: 2, held: 1 });

    // At-least-once producers resend: the same ids again are duplicates, counted once.
    await publish("weather.events", first.slice(-8));
    // Lag comes from the consumer's info, refreshed apart from the batches: wait for it to settle too.
    const after = await waitForStream(t, fsId, (x) => x.messages === 708 && x.lag === 0, "the resent messages consumed");
    expect(after).toMatchObject({ accepted: 700, duplicates: 8, rejected: 0, lag: 0 });
    expect(await stored()).toBe(700);
    expect(await online()).toEqual(before);
  });

  it("rejects bad messages with reasons, acks them and never redelivers them", async () => {
    const ts = events[699].ts;
    const bad = [
      "{not json",
      "[1, 2]",
      JSON.stringify({ id: "bad-type", weather: "sun", ts, precipitation: "lots", wind: 1 }),
      JSON.stringify({ weather: "sun", ts, precipitation: 0, wind: 1 }),
      JSON.stringify({ id: "bad-field", weather: "sun", ts, precipitation: 0, wind: 1, city: "Seattle" }),
    ];
    const before = await online();
    await publish("weather.events", bad);
    const s = await waitForStream(t, fsId, (x) => x.messages === 713, "the bad messages consumed");
    expect(s).toMatchObject({ accepted: 700, rejected: 5, lag: 0 });
    const { rejections } = (await gqlData(t, `query($f: ID!) { eventSource(featureSetId: $f) { stream { rejections(limit: 10) { streamSequence subject eventId reason excerpt } } } }`, { f: fsId })).stream;
    expect(rejections).toHaveLength(5);
    const oldestFirst = [...rejections].reverse();
    expect(oldestFirst.map((x: any) => x.reason)).toEqual([
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/must be a JSON object/),
      expect.stringMatching(/precipitation/),
      expect.stringMatching(/event id/),
      expect.stringMatching(/unknown field.*city/),
    ]);
    expect(oldestFirst.map((x: any) => x.excerpt)).toEqual(bad);
    expect(oldestFirst[2].eventId).toBe("bad-type");
    expect(oldestFirst.every((x: any) => x.subject === "weather.events" && x.streamSequence > 700)).toBe(true);
    expect(await online()).toEqual(before);
    // Longer than the ack wait (5 s): had they not been acked, NATS would have redelivered them
    // and they would have been rejected (and counted) again.
    await new Promise((r) => setTimeout(r, 6000));
    const info = await jsm.consumers.info("WEATHER", "ouro-weather");
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(await streamStatus(t, fsId)).toMatchObject({ messages: 713, rejected: 5 });
  });

  it("survives the broker going away mid-stream: resumes from the durable consumer, nothing lost or counted twice", async () => {
    await publish("weather.events", events.slice(700, 1100));
    // Kill the broker as soon as the consumer is into the new messages.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [row] = await t.app.db.query("SELECT accepted::int AS n FROM event_streams WHERE feature_set_id = $1", [fsId]);
      if (row.n > 700) break;
      if (Date.now() > deadline) throw new Error("the consumer never started on the new messages");
      await new Promise((r) => setTimeout(r, 5));
    }
    const [atKill] = await t.app.db.query("SELECT accepted::int AS n FROM event_streams WHERE feature_set_id = $1", [fsId]);
    await nats.kill();
    console.log(`broker killed with ${atKill.n - 700} of the 400 new events consumed`);
    const down = await waitForStream(t, fsId, (x) => x.state === "disconnected", "the consumer to notice the broker is gone");
    expect(down.connected).toBe(false);
    expect(down.lastError).toMatch(/NATS at nats:\/\/127\.0\.0\.1:\d+/);

    await nats.start(); // same port, same store directory
    await publish("weather.events", events.slice(1100));
    const s = await waitForStream(t, fsId, (x) => x.accepted === events.length && x.lag === 0 && x.connected, "every event accepted after the restart");
    const reasons = async () => JSON.stringify((await t.app.db.query("SELECT reason FROM event_stream_rejections ORDER BY id DESC LIMIT 5")).map((r: { reason: string }) => r.reason));
    // A redelivered event is a duplicate, even one refused as late (a broker killed before it
    // saved its latest acks redelivers from an older point).
    expect(s.rejected, await reasons()).toBe(5);
    expect(await stored()).toBe(events.length);
    expect(Number((await t.app.db.query("SELECT count(DISTINCT event_id)::int AS n FROM events WHERE feature_set_id = $1", [fsId]))[0].n)).toBe(events.length);
    expectOnline(await online(), events);
    // Whatever was redelivered (consumed but unacked when the broker died) was a duplicate.
    expect(s.messages).toBe(713 + (events.length - 700) + (s.duplicates - 8));
    console.log(`after the restart: ${s.duplicates - 8} redelivered messages counted as duplicates`);
  }, 150_000);

  it("detach stops consumption; attaching the durable again resumes where it stopped", async () => {
    const detach = await t.gql(`mutation($f: ID!) { detachEventStream(featureSetId: $f) }`, { f: fsId });
    expect(detach.data?.detachEventStream).toBe(true);
    expect(await streamStatus(t, fsId)).toBeNull();
    expect((await t.gql(`mutation($f: ID!) { detachEventStream(featureSetId: $f) }`, { f: fsId })).errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(await t.app.db.query("SELECT 1 FROM audit_events WHERE target_id = $1 AND action = 'featureSet.detachEventStream'", [fsId])).toHaveLength(1);

    const last = Date.parse(events[events.length - 1].ts);
    const more: Weather[] = Array.from({ length: 5 }, (_, i) => ({ id: `more-${i}`, weather: "sun", ts: new Date(last + (i + 1) * 60_000).toISOString(), precipitation: 1, wind: 2 }));
    await publish("weather.events", more);
    // Several of the workers' checks later, nothing was consumed: the messages wait in NATS.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await stored()).toBe(events.length);
    const info = await jsm.consumers.info("WEATHER", "ouro-weather");
    expect(info.num_pending + info.num_ack_pending).toBe(5);

    const again = await attach(t, fsId, { streamName: "WEATHER", subject: "weather.events", durableName: "ouro-weather", ackWaitSeconds: 5, batchSize: 50 });
    if (!again.data) throw new Error(JSON.stringify(again.errors));
    const s = await waitForStream(t, fsId, (x) => x.accepted === 5 && x.lag === 0, "the waiting messages consumed after re-attaching");
    expect(s).toMatchObject({ messages: 5, duplicates: 0, rejected: 0 });
    expect(await stored()).toBe(events.length + 5);
    expectOnline(await online(), [...events, ...more]);
  });

  it("a worker that loses its database lock stops consuming, and a worker takes the source over", async () => {
    const holderOf = () =>
      t.app.db.query(
        `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'ouro-event-streams' AND a.datname = current_database()`,
      ) as Promise<{ pid: number }[]>;
    const [holder] = await holderOf();
    const before = await streamStatus(t, fsId);
    // The lock dies with its connection, as it would with a crashed worker's.
    await t.app.db.query("SELECT pg_terminate_backend($1)", [holder.pid]);
    const last = Date.parse(events[events.length - 1].ts) + 10 * 60_000;
    const more: Weather[] = Array.from({ length: 5 }, (_, i) => ({ id: `later-${i}`, weather: "rain", ts: new Date(last + i * 60_000).toISOString(), precipitation: 0.5, wind: 3 }));
    await publish("weather.events", more);
    const s = await waitForStream(t, fsId, (x) => x.accepted === before.accepted + 5 && x.lag === 0 && x.connected, "the source taken over");
    expect(s.rejected).toBe(0);
    expect(await stored()).toBe(events.length + 10);
    const holders = await holderOf();
    expect(holders).toHaveLength(1);
    expect(holders[0].pid).not.toBe(holder.pid);
  });

  it("reports a stream that does not exist as a clear status error", async () => {
    const r = await t.gql(`mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId } }`, {
      i: { projectId, name: "weather_nope", entityKeys: ["weather"], eventTimeColumn: "ts", eventIdColumn: "id", fields: FIELDS, aggregations: AGGREGATIONS },
    });
    const id = r.data.createEventFeatureSet.featureSetId;
    // The same durable as another feature set's is refused before anything is stored.
    expect((await attach(t, id, { streamName: "WEATHER", durableName: "ouro-weather" })).errors?.[0].extensions?.code).toBe("CONFLICT");
    expect((await attach(t, id, { streamName: "NOPE" })).data?.attachEventStream.durableName).toBe("ouro-weather_nope");
    const s = await waitForStream(t, id, (x) => x.state === "error", "a status error");
    expect(s.connected).toBe(false);
    expect(s.lastError).toMatch(/NOPE\/ouro-weather_nope on nats:\/\/127\.0\.0\.1:\d+: stream NOPE not found/);
    expect((await t.gql(`mutation($f: ID!) { detachEventStream(featureSetId: $f) }`, { f: id })).data?.detachEventStream).toBe(true);
  });

  it("reports a NATS server nobody answers at as a clear status error", async () => {
    const closedPort = await freePort();
    t2 = await startTestOuro({ label: "events_nats_bad", worker: true, env: { OURO_NATS_URL: `nats://ouro:secret@127.0.0.1:${closedPort}` } });
    const project = await createProject(t2, "bad-url");
    const r = await t2.gql(`mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId } }`, {
      i: { projectId: project, name: "weather", entityKeys: ["weather"], eventTimeColumn: "ts", eventIdColumn: "id", fields: FIELDS, aggregations: AGGREGATIONS },
    });
    const id = r.data.createEventFeatureSet.featureSetId;
    const a = await attach(t2, id, { streamName: "WEATHER" });
    expect(a.data?.attachEventStream).toMatchObject({ durableName: "ouro-weather", subject: null, connected: false });
    const s = await waitForStream(t2, id, (x) => x.lastError !== null, "a status error");
    expect(s.state).toBe("disconnected");
    expect(s.connected).toBe(false);
    expect(s.lastError).toMatch(new RegExp(`cannot reach NATS at nats://127\\.0\\.0\\.1:${closedPort}: .*refused`, "i"));
    // The password in the URL is not shown.
    expect(s.lastError).not.toMatch(/secret/);
  });
});
