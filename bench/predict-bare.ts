/**
 * The baseline for Ouro's serving overhead: the smallest honest model server — node:http,
 * JSON in, the same saved model through the same TensorFlow.js backend, JSON out. No auth,
 * no validation beyond a width check, no recipe, no log.
 *
 *   node -r @swc-node/register bench/predict-bare.ts <saved-model.json> <port>
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { loadModel, predictMatrix } from "../server/src/domains/models/training/serialize";

async function main(): Promise<void> {
  const [file, port] = process.argv.slice(2);
  const loaded = await loadModel(JSON.parse(readFileSync(file, "utf8")));
  const names = loaded.saved.signature.features.map((f) => f.name);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const row = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, number>;
        const x = new Float32Array(names.length);
        names.forEach((n, j) => (x[j] = row[n]));
        const out = predictMatrix(loaded, x, 1);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ value: out[0] }));
      } catch (err) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), "127.0.0.1", () => process.stdout.write("BARE_READY\n"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
