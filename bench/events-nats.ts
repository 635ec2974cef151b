/**
 * Event consumption from NATS JetStream (issue 7): events/s from a stream into the online
 * store, against the same events POSTed to /v1/events/{featureSet} by one sender in batches
 * of the consumer's size (the baseline: the same ingest path without NATS).
 *
 *   node -r @swc-node/register bench/events-nats.ts [--events=20000] [--batch=500] [--entities=2000]
 *
 * A fresh embedded PostgreSQL, a nats-server (Debian's package) with its own store directory,
 * and a server process with a worker and OURO_NATS_URL. Two event feature sets with the same
 * definition (count, sum, mean over 1h / 1d). The NATS events are all published first (timed
 * apart), then the stream is attached; consumption is timed from the attach until the
 * stream's `accepted` counter reaches the event count (polled every 50 ms).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { arg, fmt, freePort, int, sleep, startDatabase, startServer, table, wallMs } from "./lib";

const EVENTS = arg("events", 20_000);
const BATCH = arg("batch", 500);
const ENTITIES = arg("entities", 2_000);

function makeEvents(prefix: string): { id: string; user: string; at: number; amount: number }[] {
  const start = Date.now() - 30 * 60_000;
  return Array.from({ length: EVENTS }, (_, i) => ({ id: `${prefix}-${i}`, user: `u${(i * 7919) % ENTITIES}`, at: start + Math.floor((i * 25 * 60_000) / EVENTS), amount: (i % 1000) / 10 }));
}

async function main(): Promise<void> {
  const natsBin = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((p) => existsSync(p));
  if (!natsBin) throw new Error("nats-server not found (apt-get install nats-server)");
  const store = await mkdtemp(path.join(os.tmpdir(), "ouro-bench-nats-"));
  const port = await freePort();
  const nats = spawn(natsBin, ["-js", "-sd", store, "-p", String(port), "-a", "127.0.0.1"], { stdio: "ignore" });
  const db = await startDatabase();
  const url = `nats://127.0.0.1:${port}`;
  await sleep(500);
  const server = await startServer(db.url, { worker: true, env: { OURO_NATS_URL: url } });
  const nc = await connect({ servers: url });
  try {
    const { createProject } = await server.gql(`mutation { createProject(input: { name: "bench" }) { id } }`);
    const create = async (name: string) =>
      (
        await server.gql(`mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId } }`, {
          i: {
            projectId: createProject.id,
            name,
            entityKeys: ["user"],
            eventTimeColumn: "at",
            eventIdColumn: "id",
            fields: [
              { name: "user", type: "string" },
              { name: "amount", type: "float" },
            ],
            aggregations: [
              { name: "n_1h", function: "count", window: "1h" },
              { name: "amount_1d", function: "sum", field: "amount", window: "1d" },
              { name: "amount_mean_1h", function: "mean", field: "amount", window: "1h" },
            ],
          },
        })
      ).createEventFeatureSet.featureSetId as string;
    const httpSet = await create("over_http");
    const natsSet = await create("over_nats");

    // Baseline: one sender, batches of BATCH, each answered after its commit.
    const httpEvents = makeEvents("h");
    const base = server.url.replace(/\/graphql$/, "");
    let t0 = wallMs();
    for (let i = 0; i < httpEvents.length; i += BATCH) {
      const res = await fetch(`${base}/v1/events/${httpSet}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${server.token}` },
        body: JSON.stringify(httpEvents.slice(i, i + BATCH)),
      });
      const body = (await res.json()) as { accepted: number };
      if (res.status !== 200 || body.accepted !== Math.min(BATCH, httpEvents.length - i)) throw new Error(`HTTP batch: ${res.status} ${JSON.stringify(body)}`);
    }
    const httpSeconds = (wallMs() - t0) / 1000;

    // Publish everything first (acked by JetStream), 1,000 in flight at a time.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "BENCH", subjects: ["bench.>"], storage: StorageType.File });
    const js = jetstream(nc);
    const natsEvents = makeEvents("n");
    t0 = wallMs();
    for (let i = 0; i < natsEvents.length; i += 1000) {
      await Promise.all(natsEvents.slice(i, i + 1000).map((e) => js.publish("bench.events", JSON.stringify(e))));
    }
    const publishSeconds = (wallMs() - t0) / 1000;

    t0 = wallMs();
    await server.gql(`mutation($f: ID!, $i: AttachEventStreamInput!) { attachEventStream(featureSetId: $f, input: $i) { id } }`, {
      f: natsSet,
      i: { streamName: "BENCH", subject: "bench.events", batchSize: BATCH },
    });
    let status: { accepted: number; rejected: number; duplicates: number; lastError: string | null } = { accepted: 0, rejected: 0, duplicates: 0, lastError: null };
    while (status.accepted < EVENTS) {
      await sleep(50);
      status = (await server.gql(`query($f: ID!) { eventSource(featureSetId: $f) { stream { accepted rejected duplicates lastError } } }`, { f: natsSet })).eventSource.stream;
      if (status.rejected > 0) throw new Error(`rejections: ${JSON.stringify(status)}`);
      if (wallMs() - t0 > 600_000) throw new Error(`not consumed within 10 min: ${JSON.stringify(status)}`);
    }
    const natsSeconds = (wallMs() - t0) / 1000;

    const httpRate = EVENTS / httpSeconds;
    const natsRate = EVENTS / natsSeconds;
    console.log(`\n${EVENTS} events, ${ENTITIES} entities, batches of ${BATCH}; ${os.cpus().length} cores; ${new Date().toISOString()}\n`);
    console.log(
      table(
        ["path", "events", "seconds", "events/s", "vs HTTP"],
        [
          ["HTTP POST, 1 sender (baseline)", int(EVENTS), fmt(httpSeconds, 2), int(httpRate), "1.00"],
          ["NATS JetStream consumer (attach → all accepted)", int(EVENTS), fmt(natsSeconds, 2), int(natsRate), fmt(natsRate / httpRate, 2)],
          ["(publishing to JetStream, 1,000 in flight)", int(EVENTS), fmt(publishSeconds, 2), int(EVENTS / publishSeconds), "-"],
        ],
      ),
    );
  } finally {
    await nc.close().catch(() => undefined);
    await server.stop();
    await db.stop();
    nats.kill("SIGTERM");
    await rm(store, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
