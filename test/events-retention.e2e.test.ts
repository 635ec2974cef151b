import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestorOf } from "../server/src/domains/events/ingest.service";
import { runRetentionPass, startEventRetention } from "../server/src/domains/events/retention";
import { createProject, startTestOuro, type TestOuro } from "./helpers/ouro";

// Event history retention (OURO_EVENTS_RETENTION_DAYS, server/src/domains/events/retention.ts):
// two feature sets get events on days 20, 16, 9, 6, 1 and 0 days ago. With 3 days of retention,
// days 20 and 16 go; days 9 and 6 are past retention but stay, because "visits" has a 10-day
// window that may still read them to rebuild an entity's buckets.
const DAY = 86_400_000;
const RETENTION_DAYS = 3;
const OFFSETS = [20, 16, 9, 6, 1, 0];
const USERS = ["ana", "bo"];

interface Ev {
  id: string;
  user: string;
  at: string;
  amount: number;
}

/** A PostgreSQL ErrorResponse: FATAL 53300, too many clients. */
function fatalTooManyClients(): Buffer {
  const fields = Buffer.from("SFATAL\0VFATAL\0C53300\0Msorry, too many clients already\0\0");
  const head = Buffer.alloc(5);
  head.write("E");
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

/** A local address where nothing listens, so connecting to it is refused at once. */
async function refusingPort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const partitionOf = (ms: number) => `events_p${new Date(ms).toISOString().slice(0, 10).replace(/-/g, "")}`;

/** Three events per user per day: at 12:00, 12:10 and 12:20 UTC (today: the last minutes). */
function history(prefix: string, now: number): Ev[] {
  const today = Math.floor(now / DAY) * DAY;
  const out: Ev[] = [];
  for (const k of OFFSETS) {
    for (const [u, user] of USERS.entries()) {
      for (let j = 0; j < 3; j++) {
        const t = k === 0 ? now - (3 - j) * 60_000 : today - k * DAY + 12 * 3_600_000 + j * 600_000;
        out.push({ id: `${prefix}-${k}-${user}-${j}`, user, at: new Date(t).toISOString(), amount: 10 * k + u + j + 0.5 });
      }
    }
  }
  return out;
}

/** The window definition, naively: events of `user` in the W whole minutes ending with asOf's minute, up to asOf. */
function naive(events: Ev[], user: string, asOf: number, windowMinutes: number) {
  const minute = (ms: number) => Math.floor(ms / 60_000);
  const xs = events.filter((e) => e.user === user && Date.parse(e.at) <= asOf && minute(Date.parse(e.at)) >= minute(asOf) - (windowMinutes - 1)).map((e) => e.amount);
  return { count: xs.length, sum: xs.reduce((s, x) => s + x, 0) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (r: Response): Promise<any> => r.json();

describe("event history retention", () => {
  let t: TestOuro;
  let projectId: string;
  let clicksId: string;
  let visitsId: string;
  const start = Date.now();
  const clicks = history("c", start);
  const visits = history("v", start);
  const oldDays = [20, 16].map((k) => partitionOf(Date.parse(clicks.find((e) => e.id === `c-${k}-ana-0`)!.at)));
  const windowDays = [9, 6].map((k) => partitionOf(Date.parse(clicks.find((e) => e.id === `c-${k}-ana-0`)!.at)));
  const recentDays = [...new Set(clicks.filter((e) => Date.parse(e.at) > start - 2 * DAY).map((e) => partitionOf(Date.parse(e.at))))];

  const post = (server: TestOuro, id: string, events: unknown[]) =>
    fetch(`${server.url.replace(/\/graphql$/, "")}/v1/events/${id}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify(events),
    });
  const createSet = async (name: string, aggregations: Record<string, string>[]) => {
    const r = await t.gql(`mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId } }`, {
      i: { projectId, name, entityKeys: ["user"], eventTimeColumn: "at", eventIdColumn: "id", fields: [{ name: "user", type: "string" }, { name: "amount", type: "float" }], aggregations, allowedLatenessSeconds: 3600 },
    });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return r.data.createEventFeatureSet.featureSetId as string;
  };
  const online = async (id: string) => {
    const r = await t.gql(`query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key values eventTime } }`, { f: id, k: USERS });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return r.data.onlineFeatures as { key: string; values: Record<string, number>; eventTime: string }[];
  };
  const partitions = async () =>
    (await t.app.db.query("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1")).map(
      (r: { name: string }) => r.name,
    ) as string[];
  const audit = async (action: string) =>
    (await t.app.db.query("SELECT project_id, target_id, data FROM audit_events WHERE action = $1 ORDER BY seq", [action])) as { project_id: string | null; target_id: string; data: Record<string, any> }[];

  beforeAll(async () => {
    t = await startTestOuro({ label: "events-retention", env: { OURO_EVENTS_RETENTION_DAYS: String(RETENTION_DAYS) } });
    projectId = await createProject(t, "retention");
    clicksId = await createSet("clicks", [
      { name: "clicks_1h", function: "count", window: "1h" },
      { name: "amount_1d", function: "sum", field: "amount", window: "1d" },
    ]);
    visitsId = await createSet("visits", [
      { name: "visits_10d", function: "count", window: "10d" },
      { name: "amount_10d", function: "sum", field: "amount", window: "10d" },
    ]);
    // One batch each, oldest first: with no watermark yet, every day is accepted.
    for (const [id, events] of [[clicksId, clicks], [visitsId, visits]] as const) {
      const res = await post(t, id, events);
      expect(await body(res)).toMatchObject({ accepted: events.length, rejected: [] });
    }
  });
  afterAll(() => t?.stop());

  it("with OURO_EVENTS_RETENTION_DAYS=0 (the default) a pass does nothing", async () => {
    const off = { ...t.app, config: { ...t.app.config, events: { ...t.app.config.events, retentionDays: 0 } } };
    expect(await runRetentionPass(off)).toBeNull();
    expect(await partitions()).toEqual(expect.arrayContaining([...oldDays, ...windowDays, ...recentDays]));
  });

  it("skips the pass while another worker holds the retention lock (one worker at a time)", async () => {
    const other = new pg.Client({ connectionString: t.databaseUrl });
    await other.connect();
    try {
      await other.query("SELECT pg_advisory_lock(hashtextextended('ouro.events.retention', 0))");
      expect(await runRetentionPass(t.app)).toBeNull();
      expect(await partitions()).toEqual(expect.arrayContaining(oldDays));
    } finally {
      await other.end();
    }
  });

  it("a pass that cannot connect for its lock closes that connection, logs a warning and returns null; the worker's pass does not fail", async () => {
    // A server that answers the startup message with a FATAL error and then keeps the socket
    // open: only the client ending it closes it.
    const sockets: net.Socket[] = [];
    const closed: Promise<string>[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      closed.push(new Promise((r) => socket.once("close", () => r("closed"))));
      socket.on("error", () => undefined);
      socket.once("data", () => socket.write(fatalTooManyClients()));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const warnings = () =>
      t.logs
        .flatMap((chunk) => chunk.split("\n").filter(Boolean))
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: string })
        .filter((l) => l.level === 40 && l.msg.startsWith("event retention"));
    try {
      const unreachable = { ...t.app, databaseUrl: `postgres://ouro@127.0.0.1:${(server.address() as net.AddressInfo).port}/ouro` };
      expect(await runRetentionPass(unreachable)).toBeNull();
      expect(closed).toHaveLength(1);
      expect(await Promise.race([closed[0], new Promise((r) => setTimeout(() => r("still open"), 2000))])).toBe("closed");
      expect(warnings()).toEqual([expect.objectContaining({ msg: "event retention pass skipped: could not connect for its lock", err: expect.stringMatching(/too many clients/) })]);

      // The worker's loop: a refused connection ends its first pass with the same warning.
      const refused = { ...t.app, databaseUrl: `postgres://ouro@127.0.0.1:${await refusingPort()}/ouro` };
      await startEventRetention(refused).stop();
      expect(warnings().map((w) => w.msg)).toEqual(["event retention pass skipped: could not connect for its lock", "event retention pass skipped: could not connect for its lock"]);
      expect(warnings()[1].err).toMatch(/ECONNREFUSED/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => server.close(r));
    }
    expect(await partitions()).toEqual(expect.arrayContaining(oldDays));
  });

  it("drops day partitions past retention, keeps those a 10-day window still needs (audited with the reason), and leaves online values alone", async () => {
    const before = { clicks: await online(clicksId), visits: await online(visitsId) };
    const report = await runRetentionPass(t.app);
    expect(report!.dropped.map((d) => d.name)).toEqual(oldDays);
    // 3 events × 2 users × 2 feature sets per day.
    expect(report!.dropped.map((d) => d.rows)).toEqual([12, 12]);
    expect(report!.kept.map((k) => [k.name, k.neededBy.map((n) => n.name)])).toEqual(windowDays.map((p) => [p, ["visits"]]));

    const now = await partitions();
    for (const p of oldDays) expect(now).not.toContain(p);
    expect(now).toEqual(expect.arrayContaining([...windowDays, ...recentDays]));
    const kept = new Set([...windowDays, ...recentDays]);
    const stored = Number((await t.app.db.query("SELECT count(*)::int AS n FROM events"))[0].n);
    expect(stored).toBe([...clicks, ...visits].filter((e) => kept.has(partitionOf(Date.parse(e.at)))).length);
    expect({ clicks: await online(clicksId), visits: await online(visitsId) }).toEqual(before);

    // The audit trail: one system entry per dropped day, one per feature set that lost events
    // (visible in its project), and the extension for visits with its reason.
    expect((await audit("events.dropPartition")).map((a) => [a.project_id, a.target_id, a.data.rows, a.data.retentionDays])).toEqual(oldDays.map((p) => [null, p, 12, RETENTION_DAYS]));
    const trail = await t.gql(`query($p: ID!) { auditTrail(projectId: $p, first: 100) { action targetId data } }`, { p: projectId });
    const expired = trail.data.auditTrail.filter((a: { action: string }) => a.action === "featureSet.expireEventHistory");
    expect(expired.map((a: { targetId: string; data: { partition: string; rows: number } }) => [a.data.partition, a.targetId, a.data.rows]).sort()).toEqual(
      oldDays.flatMap((p) => [[p, clicksId, 6], [p, visitsId, 6]].sort()).sort(),
    );
    const extended = trail.data.auditTrail.filter((a: { action: string }) => a.action === "featureSet.extendEventRetention");
    expect(extended).toHaveLength(1);
    expect(extended[0].targetId).toBe(visitsId);
    expect(extended[0].data).toMatchObject({ retentionDays: RETENTION_DAYS, partitions: windowDays });
    expect(extended[0].data.reason).toMatch(/longest window \(10d\) \+ allowed lateness \(3600 s\) \+ 1 day of margin/);
    expect(t.logs.join("")).toMatch(/event history kept beyond its retention/);

    // A second pass changes nothing and does not audit the same extension again.
    const again = await runRetentionPass(t.app);
    expect(again!.dropped).toEqual([]);
    expect(await audit("featureSet.extendEventRetention")).toHaveLength(1);
  }, 60_000);

  it("rebuilds windows from the kept history in a cold server process: values equal the naive definition over all events", async () => {
    // A second process has no buckets in memory: its first batch per entity rebuilds them
    // from the history. The 10-day window reaches back to the event 9 days ago.
    const second = await startTestOuro({ label: "events-retention-2", databaseUrl: t.databaseUrl });
    try {
      const at = Date.now();
      const fresh = USERS.map((user, i) => ({ id: `new-${user}`, user, at: new Date(at).toISOString(), amount: 100 + i }));
      for (const [id, events] of [[clicksId, clicks], [visitsId, visits]] as const) {
        const res = await post(second, id, fresh);
        expect(await body(res)).toMatchObject({ accepted: 2, rejected: [] });
        events.push(...fresh);
      }
      for (const o of await online(visitsId)) {
        const want = naive(visits, o.key, at, 10 * 1440);
        // Days 9, 6, 1 and today, 3 each, plus the new one (the dropped days are beyond 10 days).
        expect(want.count).toBe(13);
        expect(o.values.visits_10d).toBe(want.count);
        expect(o.values.amount_10d).toBeCloseTo(want.sum, 9);
      }
      for (const o of await online(clicksId)) {
        expect(o.values.clicks_1h).toBe(naive(clicks, o.key, at, 60).count);
        expect(o.values.amount_1d).toBeCloseTo(naive(clicks, o.key, at, 1440).sum, 9);
      }
    } finally {
      await second.stop();
    }
  }, 60_000);

  it("an event for a dropped day: refused as late where the watermark has moved on; stored in a re-created partition for a new feature set with no watermark", async () => {
    const oldAt = clicks.find((e) => e.id === "c-20-ana-1")!.at;
    // clicks' watermark is now: 20 days ago is far beyond its allowed lateness of an hour.
    const late = await body(await post(t, clicksId, [{ id: "late-1", user: "ana", at: oldAt, amount: 1 }]));
    expect(late.accepted).toBe(0);
    expect(late.rejected[0].reason).toMatch(/^late: /);
    expect(await partitions()).not.toContain(oldDays[0]);

    // A new feature set accepts any past time. This process created that day's partition
    // before the retention pass dropped it: it must create it again, not fail or lose the event.
    const backfillId = await createSet("backfill", [{ name: "n_1d", function: "count", window: "1d" }]);
    const res = await post(t, backfillId, [{ id: "old-1", user: "ana", at: oldAt, amount: 1 }]);
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ accepted: 1, rejected: [] });
    expect(await partitions()).toContain(oldDays[0]);
    expect(await t.app.db.query("SELECT event_id FROM events WHERE feature_set_id = $1", [backfillId])).toEqual([{ event_id: "old-1" }]);
    const [value] = (await t.gql(`query($f: ID!) { onlineFeatures(featureSetId: $f, keys: ["ana"]) { values } }`, { f: backfillId })).data.onlineFeatures;
    expect(value.values).toEqual({ n_1d: 1 });

    // Its watermark is 20 days ago, so its windows may read that day: the next pass keeps it.
    const report = await runRetentionPass(t.app);
    expect(report!.dropped).toEqual([]);
    expect(report!.kept.find((k) => k.name === oldDays[0])!.neededBy.map((n) => n.name)).toEqual(["backfill"]);
  }, 60_000);

  it("ingest racing a drop of the same old day (new feature sets, 5 tries): no request fails and every accepted event is stored", async () => {
    for (let i = 0; i < 5; i++) {
      const dayStart = Math.floor(start / DAY) * DAY - (30 + i) * DAY;
      const name = partitionOf(dayStart);
      await t.app.db.query(`CREATE TABLE ${name} PARTITION OF events FOR VALUES FROM ('${new Date(dayStart).toISOString()}') TO ('${new Date(dayStart + DAY).toISOString()}')`);
      const id = await createSet(`race_${i}`, [{ name: "n_1d", function: "count", window: "1d" }]);
      const events = Array.from({ length: 50 }, (_, j) => ({ id: `r${i}-${j}`, user: USERS[j % 2], at: new Date(dayStart + 3_600_000 + j * 1000).toISOString(), amount: j }));
      // Either the drop comes first (the batch creates the day again), or the batch commits
      // first (its watermark makes the day needed, and the drop, deciding again under its lock,
      // keeps it), or the drop lands between the batch's partition check and its COPY.
      const [res] = await Promise.all([post(t, id, events), runRetentionPass(t.app)]);
      expect(res.status).toBe(200);
      expect(await body(res)).toMatchObject({ accepted: 50, rejected: [] });
      expect((await t.app.db.query("SELECT count(*)::int AS n FROM events WHERE feature_set_id = $1", [id]))[0].n).toBe(50);
      expect(await partitions()).toContain(name);
    }
  }, 60_000);

  it("runs in the worker: a worker with OURO_EVENTS_RETENTION_DAYS drops an old empty day at start and keeps the needed ones", async () => {
    const ancient = partitionOf(start - 40 * DAY);
    const from = new Date(Math.floor(start / DAY) * DAY - 40 * DAY);
    await t.app.db.query(`CREATE TABLE ${ancient} PARTITION OF events FOR VALUES FROM ('${from.toISOString()}') TO ('${new Date(from.getTime() + DAY).toISOString()}')`);
    expect(await partitions()).toContain(ancient);
    const worker = await startTestOuro({ label: "events-retention-w", databaseUrl: t.databaseUrl, worker: true, env: { OURO_EVENTS_RETENTION_DAYS: String(RETENTION_DAYS) } });
    try {
      const deadline = Date.now() + 30_000;
      while ((await partitions()).includes(ancient) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await partitions()).not.toContain(ancient);
      expect(await partitions()).toEqual(expect.arrayContaining([oldDays[0], ...windowDays, ...recentDays]));
      expect((await audit("events.dropPartition")).map((a) => [a.target_id, a.data.rows])).toContainEqual([ancient, 0]);
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it("deleting a feature set stops it holding history days: the next pass drops the old day only it kept, and its dedup ids go with it", async () => {
    const backfillId = ((await t.app.db.query("SELECT id FROM feature_sets WHERE project_id = $1 AND name = 'backfill'", [projectId])) as { id: string }[])[0].id;
    const before = await runRetentionPass(t.app);
    expect(before!.dropped).toEqual([]);
    expect(before!.kept.find((k) => k.name === oldDays[0])!.neededBy.map((n) => n.name)).toEqual(["backfill"]);

    expect(ingestorOf(t.app).featureSetsHeld).toContain(backfillId); // its events came through this server
    const r = await t.gql(`mutation($id: ID!) { deleteFeatureSet(id: $id) { name } }`, { id: backfillId });
    expect(r.data?.deleteFeatureSet).toEqual({ name: "backfill" });
    // The server lets go of its queue and window cache (told through the bus).
    for (let i = 0; i < 100 && ingestorOf(t.app).featureSetsHeld.includes(backfillId); i++) await new Promise((ok) => setTimeout(ok, 20));
    expect(ingestorOf(t.app).featureSetsHeld).not.toContain(backfillId);
    const [deleted] = await audit("featureSet.delete");
    expect(deleted).toMatchObject({ project_id: projectId, target_id: backfillId, data: { name: "backfill", onlineRows: 1 } });
    expect(deleted.data.eventSource.watermark).toBe(clicks.find((e) => e.id === "c-20-ana-1")!.at);
    expect(await t.app.db.query("SELECT count(*)::int AS n FROM event_ids WHERE feature_set_id = $1", [backfillId])).toEqual([{ n: 0 }]);

    const after = await runRetentionPass(t.app);
    expect(after!.dropped.map((d) => [d.name, d.rows])).toEqual([[oldDays[0], 1]]);
    expect(await partitions()).not.toContain(oldDays[0]);
    // The other feature sets keep what they need; no expiry is audited for a feature set that is gone.
    expect(after!.kept.map((k) => k.name)).toEqual(expect.arrayContaining(windowDays));
    expect((await audit("featureSet.expireEventHistory")).filter((a) => a.target_id === backfillId)).toEqual([]);
  }, 60_000);
});
