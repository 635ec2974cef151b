/**
 * The predict route's body reader (predictBody in deployments/predict.route.ts) against
 * express.json, on the same single-row request body. Measured as the server process's CPU
 * time per request (process.cpuUsage), which a shared machine disturbs far less than
 * requests per second: the server runs in a child process, the load (autocannon, 16
 * connections) in this one, alternating between the two routes for several rounds.
 *
 *   node -r @swc-node/register bench/predict-body.ts [--seconds=3] [--rounds=4]
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import autocannon from "autocannon";
import express from "express";
import { predictBody } from "../server/src/domains/deployments/predict.route";
import { arg, fmt, table } from "./lib";

const SECONDS = arg("seconds", 3);
const ROUNDS = arg("rounds", 4);
const LIMIT = 1024 * 1024;

function serve(): void {
  const web = express();
  const json = express.json({ limit: LIMIT });
  // Both answer the same small JSON, so the difference is the body reading.
  const answer = (req: express.Request, res: express.Response) => void res.json({ fields: Object.keys(req.body as object).length });
  web.post("/express-json", json, answer);
  web.post("/predict-body", predictBody(LIMIT, json), answer);
  web.get("/cpu", (_req, res) => {
    const u = process.cpuUsage();
    res.json({ micros: u.user + u.system });
  });
  const server = createServer(web);
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as { port: number }).port }));
}

async function main(): Promise<void> {
  const child = fork(__filename, ["serve"], { execArgv: ["-r", "@swc-node/register"] });
  const port = await new Promise<number>((resolve) => child.once("message", (m: { port: number }) => resolve(m.port)));
  const base = `http://127.0.0.1:${port}`;
  const cpu = async () => ((await (await fetch(`${base}/cpu`)).json()) as { micros: number }).micros;
  const body = JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, (_, j) => [`f${j}`, Math.round(Math.sin(j) * 3000) / 1000])));
  const routes = ["/express-json", "/predict-body"];
  const totals = new Map(routes.map((r) => [r, { micros: 0, requests: 0 }]));
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      for (const route of routes) {
        const before = await cpu();
        const r = await autocannon({ url: `${base}${route}`, method: "POST", headers: { "content-type": "application/json" }, body, connections: 16, duration: SECONDS });
        const used = (await cpu()) - before;
        if (r.non2xx || r.errors) throw new Error(`${route}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        if (round === 0) continue; // warm-up
        const t = totals.get(route)!;
        t.micros += used;
        t.requests += r.requests.total;
      }
    }
  } finally {
    child.kill();
  }
  const per = (r: string) => totals.get(r)!.micros / totals.get(r)!.requests;
  console.log(table(["route", "requests", "server CPU µs per request"], routes.map((r) => [r, totals.get(r)!.requests, fmt(per(r), 1)])));
  console.log(`\npredictBody / express.json: ${fmt(per("/predict-body") / per("/express-json"), 2)}× the CPU per request (includes node:http and express routing, the same for both)`);
}

if (process.argv[2] === "serve") serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
