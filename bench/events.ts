/**
 * Event ingestion (issue 7): events/s through POST /v1/events/{featureSet} in batches of
 * 1,000 from several concurrent senders, and event → online feature latency under that load.
 * Floors: ≥ 20,000 events/s; p99 ≤ 1 s.
 *
 *   node -r @swc-node/register bench/events.ts [--senders=4] [--batches=240] [--entities=10000]
 *
 * A server (own process, no worker) and a fresh embedded PostgreSQL. One event feature set of
 * `entities` users with six window aggregations (count, sum, mean, max, distinct count, last
 * over 1h / 1d / 7d). Each sender posts `batches / senders` batches of 1,000 events timed
 * "now" (999 random users, and one marker event of an entity of its own); a 429 is retried after
 * its Retry-After. Latency, per batch:
 *   - ack: from sending the batch to its 200 (the online values are committed by then);
 *   - visible: from sending the batch until a reader polling `onlineFeatures` (GraphQL, one
 *     request for every batch in flight, every 10 ms) sees the batch's marker entity online.
 * Then the same at half the rate just measured, offered at a steady pace for about 20 s (open
 * loop), for the latency a client sees below capacity.
 * Baselines, same machine and run: the same batches stored with one multi-row INSERT each into
 * an unpartitioned table without indexes (no HTTP, no validation, no dedup, no windows) by
 * `senders` pg connections — the floor of storing the events at all — and by one connection.
 * The table reports rates as a ratio of the first.
 */
import pg from "pg";
import { processCpuMs } from "./cpu";
import { othersCpu } from "./data-lib";
import { arg, fmt, int, sleep, startDatabase, startServer, stats, table, wallMs } from "./lib";

const SENDERS = arg("senders", 4);
const BATCHES = Math.ceil(arg("batches", 240) / SENDERS) * SENDERS;
const ENTITIES = arg("entities", 10_000);
const BATCH = 1_000;
const ITEMS = ["book", "pen", "lamp", "mug", "desk", "chair", "cable", "plant"];

function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Event {
  id: string;
  user: string;
  at: number;
  amount: number;
  item: string;
  seq: number;
}

/** Each batch's marker event is the only event of its own entity: visible = that entity exists online. */
const probeKey = (prefix: string, sender: number, seq: number) => `probe-${prefix}-${sender}-${seq}`;

function makeBatch(rnd: () => number, sender: number, seq: number, prefix: string): Event[] {
  const at = Date.now();
  const events: Event[] = [];
  for (let i = 0; i < BATCH - 1; i++) {
    events.push({ id: `${prefix}-${sender}-${seq}-${i}`, user: `u${Math.floor(rnd() * ENTITIES)}`, at: at + i % 50, amount: Math.round(rnd() * 10_000) / 100, item: ITEMS[i % ITEMS.length], seq });
  }
  events.push({ id: `${prefix}-${sender}-${seq}-probe`, user: probeKey(prefix, sender, seq), at, amount: 1, item: "probe", seq });
  return events;
}

async function main(): Promise<void> {
  const db = await startDatabase();
  const server = await startServer(db.url, { env: { OURO_EVENTS_MAX_IN_FLIGHT: String(Math.max(SENDERS, 8)) } });
  const others = othersCpu();
  try {
    const base = server.url.replace(/\/graphql$/, "");
    const { createProject } = await server.gql(`mutation { createProject(input: { name: "bench" }) { id } }`);
    const created = await server.gql(
      `mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId } }`,
      {
        i: {
          projectId: createProject.id,
          name: "purchases",
          entityKeys: ["user"],
          eventTimeColumn: "at",
          eventIdColumn: "id",
          fields: [
            { name: "user", type: "string" },
            { name: "amount", type: "float" },
            { name: "item", type: "string" },
            { name: "seq", type: "integer" },
          ],
          aggregations: [
            { name: "purchases_1h", function: "count", window: "1h" },
            { name: "amount_1h", function: "sum", field: "amount", window: "1h" },
            { name: "amount_mean_7d", function: "mean", field: "amount", window: "7d" },
            { name: "amount_max_1d", function: "max", field: "amount", window: "1d" },
            { name: "items_1d", function: "distinct_count", field: "item", window: "1d" },
            { name: "seq_last", function: "last", field: "seq", window: "1d" },
          ],
        },
      },
    );
    const fsId: string = created.createEventFeatureSet.featureSetId;

    // --- Ouro: HTTP senders + one poller ----------------------------------------------------
    /**
     * `batchesPerSender` batches from each sender, back to back (closed loop: as fast as Ouro
     * answers) or, with `intervalMs`, one every `intervalMs` per sender (open loop: a fixed
     * offered rate, the latency a client sees below capacity).
     */
    const phase = async (prefix: string, batchesPerSender: number, intervalMs: number | null) => {
      const ack: number[] = [];
      const visible: number[] = [];
      let retries = 0;
      let accepted = 0;
      let running = true;
      const pending = new Map<string, number>();
      // One poller for all batches in flight: one request per 10 ms, whatever the senders.
      const poller = async () => {
        while (running || pending.size) {
          if (pending.size) {
            const keys = [...pending.keys()];
            const r = await server.gql(`query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key values } }`, { f: fsId, k: keys });
            const now = wallMs();
            for (const o of r.onlineFeatures as { key: string; values: unknown }[]) {
              if (o.values === null) continue;
              visible.push(now - pending.get(o.key)!);
              pending.delete(o.key);
            }
          }
          await sleep(10);
        }
      };
      const sendOne = async (s: number, seq: number, body: string) => {
        const t0 = wallMs();
        pending.set(probeKey(prefix, s, seq), t0);
        for (;;) {
          const res = await fetch(`${base}/v1/events/${fsId}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${server.token}` }, body });
          const answer = (await res.json()) as { accepted?: number; rejected?: unknown[] };
          if (res.status === 429) {
            retries++;
            await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
            continue;
          }
          if (res.status !== 200 || answer.rejected?.length) throw new Error(`batch refused: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
          accepted += answer.accepted!;
          ack.push(wallMs() - t0);
          return;
        }
      };
      const sender = async (s: number) => {
        const rnd = random(1000 + s + prefix.length * 100);
        const sent: Promise<void>[] = [];
        // Open loop: the senders' start times are spread over one interval.
        if (intervalMs) await sleep((intervalMs * s) / SENDERS);
        const start = wallMs();
        for (let seq = 0; seq < batchesPerSender; seq++) {
          const body = JSON.stringify(makeBatch(rnd, s, seq, prefix));
          if (intervalMs === null) await sendOne(s, seq, body);
          else {
            sent.push(sendOne(s, seq, body));
            await sleep(Math.max(0, start + (seq + 1) * intervalMs - wallMs()));
          }
        }
        await Promise.all(sent);
      };
      const polling = poller();
      const cpu0 = { server: processCpuMs(server.pid), pg: db.cpuMs(), bench: processCpuMs(process.pid) };
      const t0 = wallMs();
      await Promise.all(Array.from({ length: SENDERS }, (_, s) => sender(s)));
      const seconds = (wallMs() - t0) / 1000;
      const cpu = { server: processCpuMs(server.pid) - cpu0.server, pg: db.cpuMs() - cpu0.pg, bench: processCpuMs(process.pid) - cpu0.bench };
      running = false;
      await polling;
      return { accepted, seconds, rate: accepted / seconds, ack: stats(ack), visible: stats(visible), retries, cpu };
    };
    // Warm-up: one batch per sender (JIT, partitions, connection pool), not counted.
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, s) => {
        const res = await fetch(`${base}/v1/events/${fsId}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${server.token}` }, body: JSON.stringify(makeBatch(random(s), s, -1, "warm")) });
        if (res.status !== 200) throw new Error(`warm-up: ${res.status}`);
      }),
    );
    const full = await phase("ev", BATCHES / SENDERS, null);
    const ouroRate = full.rate;
    const accepted = full.accepted;
    const ouroSeconds = full.seconds;
    const cpu = full.cpu;
    const retries = full.retries;
    // Half the rate just measured, offered at a steady pace, for about 20 s.
    const pacedInterval = (SENDERS * BATCH * 1000) / (ouroRate / 2);
    const paced = await phase("paced", Math.max(3, Math.round(20_000 / pacedInterval)), pacedInterval);

    // --- Baselines: the same batches, one multi-row INSERT each, straight into PostgreSQL -----
    // With `senders` connections (the floor of storing the events at all), and with one
    // connection (what a single writer per feature set can hope for on this machine).
    const rawInsert = async (connections: number, table: string) => {
      const pool = new pg.Pool({ connectionString: db.url, max: connections });
      await pool.query(`CREATE TABLE ${table} (feature_set_id uuid, event_id text, entity_key text, event_time timestamptz, payload jsonb)`);
      let rows = 0;
      const b0 = wallMs();
      await Promise.all(
        Array.from({ length: connections }, async (_, s) => {
          const rnd = random(1000 + s);
          for (let seq = 0; seq < BATCHES / connections; seq++) {
            const batch = makeBatch(rnd, s, seq, table);
            const r = await pool.query(
              `INSERT INTO ${table} SELECT $1, * FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])`,
              [fsId, batch.map((e) => e.id), batch.map((e) => e.user), batch.map((e) => new Date(e.at).toISOString()), batch.map((e) => JSON.stringify(e))],
            );
            rows += r.rowCount ?? 0;
          }
        }),
      );
      const seconds = (wallMs() - b0) / 1000;
      await pool.end();
      return { rows, seconds, rate: rows / seconds };
    };
    const rawParallel = await rawInsert(SENDERS, "bench_raw_parallel");
    const rawSingle = await rawInsert(1, "bench_raw_single");
    const rawRate = rawParallel.rate;

    const othersPct = others();
    console.log(`\nEvent ingestion: ${SENDERS} senders × ${BATCHES / SENDERS} batches of ${BATCH} events, ${ENTITIES} entities, 6 window aggregations\n`);
    console.log(
      table(
        ["what", "events", "seconds", "events/s", "vs raw INSERT", "floor"],
        [
          ["Ouro POST /v1/events (validate, dedup, store, windows, online)", int(accepted), fmt(ouroSeconds, 2), int(ouroRate), `${fmt((ouroRate / rawRate) * 100, 0)} %`, `≥ 20,000: ${ouroRate >= 20_000 ? "met" : "NOT met"}`],
          [`baseline: multi-row INSERT into a plain table, ${SENDERS} pg connections`, int(rawParallel.rows), fmt(rawParallel.seconds, 2), int(rawParallel.rate), "100 %", ""],
          ["baseline: the same with 1 pg connection", int(rawSingle.rows), fmt(rawSingle.seconds, 2), int(rawSingle.rate), `${fmt((rawSingle.rate / rawRate) * 100, 0)} %`, ""],
        ],
      ),
    );
    console.log();
    console.log(
      table(
        ["latency (ms)", "offered", "n", "p50", "p99", "max", "floor"],
        [
          ["send → 200 (online values committed)", "as fast as answered", full.ack.n, fmt(full.ack.p50), fmt(full.ack.p99), fmt(full.ack.max), ""],
          ["send → visible to onlineFeatures poller (10 ms polls)", "as fast as answered", full.visible.n, fmt(full.visible.p50), fmt(full.visible.p99), fmt(full.visible.max), `p99 ≤ 1000: ${full.visible.p99 <= 1000 ? "met" : "NOT met"}`],
          ["send → 200 (online values committed)", `${int(paced.rate)} events/s (half)`, paced.ack.n, fmt(paced.ack.p50), fmt(paced.ack.p99), fmt(paced.ack.max), ""],
          ["send → visible to onlineFeatures poller (10 ms polls)", `${int(paced.rate)} events/s (half)`, paced.visible.n, fmt(paced.visible.p50), fmt(paced.visible.p99), fmt(paced.visible.max), `p99 ≤ 1000: ${paced.visible.p99 <= 1000 ? "met" : "NOT met"}`],
        ],
      ),
    );
    const perK = (ms: number) => fmt(ms / (accepted / 1000), 1);
    console.log(
      `\nCPU during the Ouro phase, ms per 1,000 events: server process ${perK(cpu.server)}, PostgreSQL ${perK(cpu.pg)}, ` +
        `bench client (senders + pollers) ${perK(cpu.bench)}; wall ${perK(ouroSeconds * 1000)}.`,
    );
    console.log(`429 retries: ${retries} (paced phase: ${paced.retries}). Other work on the machine during the run: ${fmt(othersPct, 0)} % of one core (2 cores = 200 %).`);
  } finally {
    await server.stop();
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
