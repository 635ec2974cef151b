import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readParquetFile } from "../server/src/domains/datasets/parquet";
import { createProject, newUserToken, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

// Events derived from vega-datasets' seattle-weather.csv: one event per day's row, keyed by
// the weather type, spread 7 minutes apart so the 1h / 1d / 7d windows each hold a different
// number of events.
interface Weather {
  id: string;
  weather: string;
  ts: string;
  precipitation: number;
  temp_max: number;
  wind: number;
  tmax_int: number;
}
const CSV = path.resolve(__dirname, "../node_modules/vega-datasets/data/seattle-weather.csv");
const BASE = Math.floor((Date.now() - 10 * 86_400_000) / 60_000) * 60_000 + 17_000;
const STEP = 7 * 60_000 + 1_234;

function weatherEvents(): Weather[] {
  const [, ...lines] = readFileSync(CSV, "utf8").trim().split("\n");
  return lines.map((line, i) => {
    const [date, precipitation, temp_max, , wind, weather] = line.split(",");
    return {
      id: `w-${date}`,
      weather,
      ts: new Date(BASE + i * STEP).toISOString(),
      precipitation: Number(precipitation),
      temp_max: Number(temp_max),
      wind: Number(wind),
      tmax_int: Math.round(Number(temp_max)),
    };
  });
}

const AGGREGATIONS = [
  { name: "events_1h", function: "count", window: "1h" },
  { name: "events_7d", function: "count", window: "7d" },
  { name: "precip_1d", function: "sum", field: "precipitation", window: "1d" },
  { name: "temp_mean_7d", function: "mean", field: "temp_max", window: "7d" },
  { name: "temp_min_1d", function: "min", field: "temp_max", window: "1d" },
  { name: "wind_max_1h", function: "max", field: "wind", window: "1h" },
  { name: "wind_last_1d", function: "last", field: "wind", window: "1d" },
  { name: "tmax_distinct_1d", function: "distinct_count", field: "tmax_int", window: "1d" },
];
const FIELDS = [
  { name: "weather", type: "string" },
  { name: "precipitation", type: "float" },
  { name: "temp_max", type: "float" },
  { name: "wind", type: "float" },
  { name: "tmax_int", type: "integer" },
];

/** The window definition, computed naively from the raw events (a third implementation). */
function bruteForce(events: Weather[], entity: string, asOf: number): Record<string, unknown> {
  const minute = (ms: number) => Math.floor(ms / 60_000);
  const out: Record<string, unknown> = {};
  for (const a of AGGREGATIONS) {
    const w = { "1h": 60, "1d": 1440, "7d": 10080 }[a.window]!;
    const inWindow = events
      .filter((e) => e.weather === entity && Date.parse(e.ts) <= asOf && minute(Date.parse(e.ts)) >= minute(asOf) - (w - 1))
      .sort((x, y) => Date.parse(x.ts) - Date.parse(y.ts) || (x.id < y.id ? -1 : 1));
    const xs = inWindow.map((e) => (a.field ? (e as unknown as Record<string, number>)[a.field] : 1));
    out[a.name] = {
      count: () => xs.length,
      sum: () => xs.reduce((s, x) => s + x, 0),
      mean: () => xs.reduce((s, x) => s + x, 0) / xs.length,
      min: () => Math.min(...xs),
      max: () => Math.max(...xs),
      last: () => xs[xs.length - 1],
      distinct_count: () => new Set(xs).size,
    }[a.function]!();
  }
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (r: Response): Promise<any> => r.json();

/** Equal, floats within 1e-9 relative (sums add up in a different order in each engine). */
function expectClose(got: Record<string, unknown>, want: Record<string, unknown>, what: string) {
  for (const [k, v] of Object.entries(want)) {
    const g = got[k];
    if (typeof v === "number" && !Number.isInteger(v)) expect(Math.abs((g as number) - v), `${what} ${k}: ${g} vs ${v}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
    else expect(g, `${what} ${k}`).toEqual(v);
  }
}

describe("event ingestion and streaming features", () => {
  let t: TestOuro;
  let projectId: string;
  let otherProjectId: string;
  let fsId: string;
  const events = weatherEvents();

  async function gqlData(query: string, variables: Record<string, unknown>, token?: string) {
    const r = await t.gql(query, variables, token);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  const createSet = (input: Record<string, unknown>, token?: string) =>
    t.gql(`mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId featureSet { features timestampColumn } watermark } }`, { i: input }, token);
  const post = (id: string, body: string, opts: { token?: string | null; type?: string } = {}) =>
    fetch(`${t.url.replace(/\/graphql$/, "")}/v1/events/${id}`, {
      method: "POST",
      headers: { "content-type": opts.type ?? "application/json", ...(opts.token === null ? {} : { authorization: `Bearer ${opts.token ?? t.adminToken}` }) },
      body,
    });
  const online = async (id: string, keys: string[]) =>
    (await gqlData(`query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key values eventTime } }`, { f: id, k: keys })) as {
      key: string;
      values: Record<string, unknown> | null;
      eventTime: string | null;
    }[];
  const stored = async (id: string) => Number((await t.app.db.query("SELECT count(*)::int AS n FROM events WHERE feature_set_id = $1", [id]))[0].n);

  beforeAll(async () => {
    t = await startTestOuro({ label: "events", worker: true, env: { OURO_JOB_MAX_ATTEMPTS: "1" } });
    projectId = await createProject(t, "events");
    otherProjectId = await createProject(t, "events-other");
    const r = await createSet({ projectId, name: "weather", entityKeys: ["weather"], eventTimeColumn: "ts", eventIdColumn: "id", fields: FIELDS, aggregations: AGGREGATIONS, allowedLatenessSeconds: 30 * 86400 });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    fsId = r.data.createEventFeatureSet.featureSetId;
    expect(r.data.createEventFeatureSet.featureSet).toEqual({ features: AGGREGATIONS.map((a) => a.name), timestampColumn: "ts" });
  });
  afterAll(() => t?.stop());

  it("refuses bad definitions with a clear error and creates nothing", async () => {
    const base = { projectId, name: "bad", entityKeys: ["weather"], eventTimeColumn: "ts", eventIdColumn: "id", fields: FIELDS, aggregations: AGGREGATIONS };
    const tries: [Record<string, unknown>, RegExp][] = [
      [{ aggregations: [{ name: "s", function: "sum", field: "weather", window: "1h" }] }, /sum needs an integer or float field/],
      [{ aggregations: [{ name: "s", function: "count", window: "45s" }] }, /window "45s"/],
      [{ aggregations: [{ name: "s", function: "count", window: "31d" }] }, /window "31d"/],
      [{ entityKeys: ["city"] }, /entity key city must be declared/],
      [{ entityKeys: ["wind"] }, /must be a string or integer field/],
      [{ fields: [...FIELDS, { name: "x", type: "date" }] }, /type must be one of/],
      [{ aggregations: [{ name: "wind", function: "count", window: "1h" }] }, /clashes with a field/],
    ];
    for (const [change, message] of tries) {
      const r = await createSet({ ...base, ...change });
      expect(r.errors?.[0].extensions?.code, JSON.stringify(change)).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0].message).toMatch(message);
    }
    expect(await t.app.db.query("SELECT 1 FROM feature_sets WHERE name = 'bad'")).toHaveLength(0);
  });

  it("ingests events over HTTP (JSON and NDJSON, out of order, resent) and serves the same window values as the batch computation", async () => {
    // Batches of 300, each shuffled (out of order within the allowed lateness), sent five at a
    // time so that concurrent batches touch the same entities.
    let accepted = 0;
    const sendBatch = async (i: number) => {
      const batch = events.slice(i, i + 300).sort((a, b) => (a.id.charCodeAt(9) % 3) - (b.id.charCodeAt(9) % 3) || a.id.localeCompare(b.id) * -1);
      const ndjson = (i / 300) % 2 === 1;
      const res = await post(fsId, ndjson ? batch.map((e) => JSON.stringify(e)).join("\n") : JSON.stringify(batch), { type: ndjson ? "application/x-ndjson" : "application/json" });
      expect(res.status).toBe(200);
      const answer = await body(res);
      expect(answer.rejected).toEqual([]);
      accepted += answer.accepted;
    };
    await Promise.all(Array.from({ length: Math.ceil(events.length / 300) }, (_, b) => sendBatch(b * 300)));
    expect(accepted).toBe(events.length);
    const entities = [...new Set(events.map((e) => e.weather))].sort();
    const before = await online(fsId, entities);

    // At-least-once senders resend: a duplicate id is neither stored nor counted twice.
    const resend = await post(fsId, JSON.stringify(events.slice(100, 400)));
    expect(await body(resend)).toMatchObject({ accepted: 0, duplicates: 300, rejected: [] });
    expect(await stored(fsId)).toBe(events.length);
    expect(await online(fsId, entities)).toEqual(before);

    // Online = the definition computed naively from the raw rows, as of each entity's latest event.
    for (const o of before) {
      const latest = Math.max(...events.filter((e) => e.weather === o.key).map((e) => Date.parse(e.ts)));
      expect(Date.parse(o.eventTime!)).toBe(latest);
      expectClose(o.values!, bruteForce(events, o.key, latest), `online ${o.key}`);
    }

    // Batch (polars over the event history) gives the same values at the entities' latest times,
    // and at every other event time the naive definition too.
    const job = await waitForJob(t, (await gqlData(`mutation($f: ID!) { materializeEventFeatures(featureSetId: $f) { id } }`, { f: fsId })).id);
    expect(job.status, job.error).toBe("succeeded");
    expect(job.result).toMatchObject({ events: events.length, rows: events.length, entities: entities.length });
    const [row] = await t.app.db.query(
      "SELECT a.sha256 FROM feature_sets f JOIN dataset_versions v ON v.id = f.materialized_version_id JOIN artifacts a ON a.id = v.artifact_id WHERE f.id = $1",
      [fsId],
    );
    const batch = readParquetFile(await t.app.artifacts.localPath(row.sha256)).toRecords() as Record<string, unknown>[];
    expect(batch).toHaveLength(events.length);
    for (const o of before) {
      const mine = batch.filter((r) => r.weather === o.key);
      const last = mine.reduce((a, b) => ((a.ts as Date) >= (b.ts as Date) ? a : b));
      expectClose(last, o.values!, `batch vs streaming ${o.key}`);
    }
    for (const r of batch.filter((_, i) => i % 97 === 0)) expectClose(r, bruteForce(events, r.weather as string, (r.ts as Date).getTime()), `batch row ${r.weather}`);
  }, 120_000);

  it("builds a point-in-time training set from the event features", async () => {
    // The batch materialization of dataset feature sets does not apply: a clear error, no job.
    const wrong = await t.gql(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: fsId });
    expect(wrong.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(wrong.errors?.[0].message).toMatch(/materializeEventFeatures/);
    // A spine 30 s after some events and 1 ms before others. Each row gets the values as of
    // the entity's last event at or before the spine time — what the online store served at that
    // moment (values move when events arrive; see the events README) — never a later event.
    const picks = events.filter((_, i) => i % 150 === 7);
    const offset = (i: number) => (i % 2 ? -1 : 30_000);
    const csv = "weather,at,label\n" + picks.map((e, i) => `${e.weather},${new Date(Date.parse(e.ts) + offset(i)).toISOString()},${i % 2}`).join("\n") + "\n";
    const upload = await fetch(`${t.url.replace(/\/graphql$/, "")}/v1/uploads?projectId=${projectId}&filename=spine.csv`, { method: "POST", headers: { authorization: `Bearer ${t.adminToken}` }, body: csv });
    const { uploadId } = await body(upload);
    const ingest = await waitForJob(t, (await gqlData(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "spine", source: { uploadId } } })).id);
    expect(ingest.status, ingest.error).toBe("succeeded");
    const built = await waitForJob(
      t,
      (await gqlData(`mutation($s: ID!, $f: [ID!]!) { buildTrainingSet(spineVersionId: $s, spineTime: "at", featureSetIds: $f, outputDataset: "weather-train") { id } }`, { s: ingest.result.versionId, f: [fsId] })).id,
    );
    expect(built.status, built.error).toBe("succeeded");
    const rows = (await gqlData(`query($id: ID!) { datasetVersion(id: $id) { preview(limit: 100) { rows } } }`, { id: built.result.versionId })).preview.rows as Record<string, unknown>[];
    expect(rows).toHaveLength(picks.length);
    rows.forEach((r, i) => {
      const spineTime = Date.parse(picks[i].ts) + offset(i);
      const lastEvent = Math.max(...events.filter((e) => e.weather === picks[i].weather && Date.parse(e.ts) <= spineTime).map((e) => Date.parse(e.ts)));
      const want = bruteForce(events, picks[i].weather, lastEvent);
      const got = Object.fromEntries(AGGREGATIONS.map((a) => [a.name, r[`weather__${a.name}`]]));
      expectClose(got, want, `training row ${i}`);
    });
  }, 120_000);

  it("rejects bad events one by one with reasons and keeps the good ones of the same batch", async () => {
    const before = await stored(fsId);
    const last = Date.parse(events[events.length - 1].ts);
    const good = (id: string, weather = "rain") => ({ id, weather, ts: new Date(last + 1000).toISOString(), precipitation: 1.5, temp_max: 10, wind: 3.2, tmax_int: 10 });
    const batch: unknown[] = [
      good("ok-1"),
      { ...good("bad-unknown"), humidity: 80 },
      { ...good("bad-type"), precipitation: "heavy" },
      { ...good("bad-int"), tmax_int: 10.5 },
      (({ weather: _w, ...e }) => e)(good("bad-nokey")),
      { ...good("bad-future"), ts: new Date(Date.now() + 3_600_000).toISOString() },
      { ...good("bad-time"), ts: "yesterday" },
      { ...good("bad-zone"), ts: "2024-01-01T10:00:00" },
      "not an object",
      (({ id: _i, ...e }) => e)(good("x")),
      good("ok-2", "sun"),
      good("ok-1"),
    ];
    const res = await post(fsId, JSON.stringify(batch));
    expect(res.status).toBe(200);
    const answer = await body(res);
    expect(answer.accepted).toBe(2);
    expect(answer.duplicates).toBe(1);
    const reasons = Object.fromEntries(answer.rejected.map((r: { index: number; reason: string }) => [r.index, r.reason]));
    expect(reasons[1]).toMatch(/unknown field.*humidity/);
    expect(reasons[2]).toMatch(/precipitation must be a number/);
    expect(reasons[3]).toMatch(/tmax_int must be an integer/);
    expect(reasons[4]).toMatch(/missing entity key weather/);
    expect(reasons[5]).toMatch(/in the future/);
    expect(reasons[6]).toMatch(/invalid event time/);
    expect(reasons[7]).toMatch(/invalid event time/);
    expect(reasons[8]).toMatch(/JSON object/);
    expect(reasons[9]).toMatch(/event id/);
    expect(Object.keys(reasons)).toHaveLength(9);
    expect(await stored(fsId)).toBe(before + 2);

    // NDJSON: a line that is not JSON is rejected at its own index; its neighbours are kept.
    const nd = [JSON.stringify(good("nd-1")), "{not json", JSON.stringify(good("nd-2"))].join("\n");
    const r2 = await body(await post(fsId, nd, { type: "application/x-ndjson" }));
    expect(r2).toMatchObject({ accepted: 2, rejected: [{ index: 1, reason: "not valid JSON" }] });
    // A body that is not JSON at all, or not an array: the whole request is refused, nothing stored.
    for (const bad of ["{oops", JSON.stringify({ events: [good("obj")] })]) {
      const r = await post(fsId, bad);
      expect(r.status).toBe(400);
      expect((await body(r)).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    }
    expect(await stored(fsId)).toBe(before + 4);

    // Characters the history's COPY format escapes (backslash, tab, newline) and others arrive
    // intact in the id, the entity key and the payload; a NUL, which PostgreSQL text cannot
    // hold, is refused per event.
    const odd = "a\\b\tc\nd\re \"q\" é 😀 \\N";
    const r3 = await body(await post(fsId, JSON.stringify([good(`odd-${odd}`, `city ${odd}`), good("nul-\u0000-id"), { ...good("nul-field"), weather: "x\u0000y" }])));
    expect(r3.accepted).toBe(1);
    expect(r3.rejected.map((r: { index: number; reason: string }) => [r.index, r.reason])).toEqual([
      [1, expect.stringMatching(/event id/)],
      [2, expect.stringMatching(/weather contains a NUL/)],
    ]);
    const [row] = await t.app.db.query("SELECT entity_key, payload FROM events WHERE feature_set_id = $1 AND event_id = $2", [fsId, `odd-${odd}`]);
    expect(row).toEqual({ entity_key: `city ${odd}`, payload: { ...(({ id: _i, ts: _t, ...v }) => v)(good("")), weather: `city ${odd}` } });
    expect((await online(fsId, [`city ${odd}`]))[0].values).toMatchObject({ events_1h: 1 });
    expect(await stored(fsId)).toBe(before + 5);
  });

  it("accepts out-of-order events within the allowed lateness, refuses older ones, and updates online values exactly", async () => {
    const r = await createSet({
      projectId,
      name: "clicks",
      entityKeys: ["user"],
      eventTimeColumn: "at",
      eventIdColumn: "id",
      fields: [{ name: "user", type: "integer" }, { name: "amount", type: "integer" }],
      aggregations: [
        { name: "n_10m", function: "count", window: "10m" },
        { name: "amount_1h", function: "sum", field: "amount", window: "1h" },
      ],
      allowedLatenessSeconds: 600,
    });
    const id = r.data.createEventFeatureSet.featureSetId;
    const t0 = Date.now() - 3_600_000;
    const ingest = (evs: Record<string, unknown>[]) =>
      gqlData(`mutation($f: ID!, $e: [JSON!]!) { ingestEvents(featureSetId: $f, events: $e) { accepted duplicates rejected { index eventId reason } watermark } }`, { f: id, e: evs });
    expect(await ingest([{ id: "a", user: 7, amount: 5, at: t0 }])).toMatchObject({ accepted: 1, watermark: new Date(t0).toISOString() });
    // 5 minutes late: within the lateness, counted in the windows it belongs to.
    expect(await ingest([{ id: "b", user: 7, amount: 10, at: t0 - 5 * 60_000 }])).toMatchObject({ accepted: 1, rejected: [] });
    expect((await online(id, ["7"]))[0]).toMatchObject({ values: { n_10m: 2, amount_1h: 15 }, eventTime: new Date(t0).toISOString() });
    // 20 minutes behind the watermark (lateness 10 min): refused, not stored, online unchanged.
    const late = await ingest([{ id: "c", user: 7, amount: 100, at: t0 - 20 * 60_000 }]);
    expect(late.accepted).toBe(0);
    expect(late.rejected[0]).toMatchObject({ eventId: "c", reason: expect.stringMatching(/^late: .*allowed lateness of 600 s/) });
    expect(await stored(id)).toBe(2);
    // A later event slides the 10-minute window past both earlier ones; the 1h sum keeps them.
    await ingest([{ id: "d", user: 7, amount: 1, at: t0 + 15 * 60_000 }]);
    expect((await online(id, ["7"]))[0].values).toEqual({ n_10m: 1, amount_1h: 16 });
    // Resending the first batches now (a client retrying, a broker redelivering from an older
    // point): they are behind the watermark, but stored — duplicates, not late rejections.
    // A never-stored event just as old is still refused as late.
    const resend = await ingest([
      { id: "a", user: 7, amount: 5, at: t0 },
      { id: "b", user: 7, amount: 10, at: t0 - 5 * 60_000 },
      { id: "e", user: 7, amount: 3, at: t0 },
    ]);
    expect(resend).toMatchObject({ accepted: 0, duplicates: 2, rejected: [{ index: 2, eventId: "e", reason: expect.stringMatching(/^late: /) }] });
    expect(await stored(id)).toBe(3);
    expect((await online(id, ["7"]))[0].values).toEqual({ n_10m: 1, amount_1h: 16 });
  });

  it("answers 429 with Retry-After beyond capacity and applies each batch entirely or not at all", async () => {
    const small = await startTestOuro({ label: "events-429", databaseUrl: t.databaseUrl, env: { OURO_EVENTS_MAX_IN_FLIGHT: "1", OURO_EVENTS_RETRY_AFTER_SECONDS: "3" } });
    try {
      const last = Date.parse(events[events.length - 1].ts);
      const batches = Array.from({ length: 12 }, (_, b) =>
        Array.from({ length: 400 }, (_, i) => ({ id: `burst-${b}-${i}`, weather: `city${i % 50}`, ts: new Date(last + 2000 + i).toISOString(), precipitation: i / 10, temp_max: 1, wind: 2, tmax_int: 1 })),
      );
      const base = small.url.replace(/\/graphql$/, "");
      const answers = await Promise.all(
        batches.map((b) => fetch(`${base}/v1/events/${fsId}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` }, body: JSON.stringify(b) })),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      for (const [b, a] of answers.entries()) {
        const n = Number((await t.app.db.query("SELECT count(*)::int AS n FROM event_ids WHERE feature_set_id = $1 AND event_id LIKE $2", [fsId, `burst-${b}-%`]))[0].n);
        if (a.status === 429) {
          expect(a.headers.get("retry-after")).toBe("3");
          expect((await body(a)).errors[0].extensions.code).toBe("RATE_LIMITED");
          expect(n).toBe(0);
        } else {
          expect((await body(a)).accepted).toBe(400);
          expect(n).toBe(400);
        }
      }
      // The batches that went through, and only they, count: 8 events of city0 in each.
      const ok = statuses.filter((s) => s === 200).length;
      expect((await online(fsId, ["city0"]))[0].values).toMatchObject({ events_1h: 8 * ok });
    } finally {
      await small.stop();
    }
  }, 60_000);

  it("stays exact when two server processes update the same entities (each keeps its buckets in memory)", async () => {
    // Each process caches minute buckets valid for one generation of the feature set. Batches
    // alternate between two processes, so each one's cache is stale at every other batch (a
    // process trusting it would miss the other's events), and the second starts cold (its
    // buckets rebuilt from the event history). Then the second process alone, whose cache of 3
    // buckets evicts entities at every batch (rebuilt from the history when next touched); the
    // last batches go to both at once.
    const r = await createSet({ projectId, name: "weather_shared", entityKeys: ["weather"], eventTimeColumn: "ts", eventIdColumn: "id", fields: FIELDS, aggregations: AGGREGATIONS, allowedLatenessSeconds: 30 * 86400 });
    const id = r.data.createEventFeatureSet.featureSetId;
    const second = await startTestOuro({ label: "events-second", databaseUrl: t.databaseUrl, env: { OURO_EVENTS_CACHE_BUCKETS: "3" } });
    try {
      const urls = [t.url, second.url].map((u) => u.replace(/\/graphql$/, ""));
      const send = async (server: number, batch: Weather[]) => {
        const res = await fetch(`${urls[server]}/v1/events/${id}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` }, body: JSON.stringify(batch) });
        expect(res.status).toBe(200);
        expect(await body(res)).toMatchObject({ accepted: batch.length, rejected: [] });
      };
      const entities = [...new Set(events.map((e) => e.weather))].sort();
      const check = async (sent: Weather[]) => {
        for (const o of await online(id, entities)) {
          const mine = sent.filter((e) => e.weather === o.key);
          if (!mine.length) continue;
          const latest = Math.max(...mine.map((e) => Date.parse(e.ts)));
          expectClose(o.values!, bruteForce(sent, o.key, latest), `after ${sent.length} events, online ${o.key}`);
        }
      };
      const batches = Array.from({ length: Math.ceil(events.length / 100) }, (_, b) => events.slice(b * 100, b * 100 + 100));
      for (const [b, batch] of batches.slice(0, -8).entries()) {
        await send(b % 2, batch);
        if (b % 3 === 2) await check(events.slice(0, (b + 1) * 100));
      }
      for (let b = batches.length - 8; b < batches.length - 4; b++) {
        await send(1, batches[b]);
        await check(events.slice(0, (b + 1) * 100));
      }
      await Promise.all(batches.slice(-4).map((batch, i) => send(i % 2, batch)));
      await check(events);
      // A resend through the other process is a duplicate there too.
      const again = await fetch(`${urls[1]}/v1/events/${id}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` }, body: JSON.stringify(batches[0]) });
      expect(await body(again)).toMatchObject({ accepted: 0, duplicates: 100 });
      await check(events);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it("keeps other projects and viewers out, and refuses oversized or malformed requests", async () => {
    const viewerToken = await newUserToken(t, "viewer@example.com");
    await t.gql(`mutation($p: ID!) { setMembership(projectId: $p, email: "viewer@example.com", role: viewer) { role } }`, { p: projectId });
    const outsiderToken = await newUserToken(t, "outsider@example.com");
    await t.gql(`mutation($p: ID!) { setMembership(projectId: $p, email: "outsider@example.com", role: editor) { role } }`, { p: otherProjectId });
    const before = await stored(fsId);
    const e = JSON.stringify([{ ...events[0], id: "auth-1" }]);

    const viewer = await post(fsId, e, { token: viewerToken });
    expect(viewer.status).toBe(403);
    expect((await body(viewer)).errors[0].extensions.code).toBe("FORBIDDEN");
    const outsider = await post(fsId, e, { token: outsiderToken });
    expect(outsider.status).toBe(404);
    expect((await body(outsider)).errors[0].message).toMatch(/feature set .* not found/);
    const gqlOutsider = await t.gql(`mutation($f: ID!, $e: [JSON!]!) { ingestEvents(featureSetId: $f, events: $e) { accepted } }`, { f: fsId, e: JSON.parse(e) }, outsiderToken);
    expect(gqlOutsider.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    expect((await t.gql(`query($f: ID!) { eventSource(featureSetId: $f) { watermark } }`, { f: fsId }, outsiderToken)).errors?.[0].extensions?.code).toBe("NOT_FOUND");
    expect((await post(fsId, e, { token: null })).status).toBe(401);
    expect((await post("not-a-uuid", e)).status).toBe(404);
    expect((await post("00000000-0000-4000-8000-000000000000", e)).status).toBe(404);
    // A batch feature set (no event source) is not an event target.
    const [plain] = await t.app.db.query(
      "INSERT INTO feature_sets (project_id, name, entity_keys) VALUES ($1, 'plain', '{k}') RETURNING id",
      [projectId],
    );
    const notEvents = await post(plain.id, e);
    expect(notEvents.status).toBe(400);
    expect((await body(notEvents)).errors[0].message).toMatch(/not an event feature set/);
    // Over OURO_EVENTS_MAX_BODY_BYTES (8 MiB by default) → 413.
    const huge = await post(fsId, JSON.stringify([{ ...events[0], id: "huge", weather: "x".repeat(9 * 1024 * 1024) }]));
    expect(huge.status).toBe(413);
    expect(await stored(fsId)).toBe(before);
  });
});
