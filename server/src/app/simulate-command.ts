// `ouro simulate`: starts simulateTraffic on a running server and follows the job, printing
// progress, so drift scenarios can be driven from a terminal or a CI script.
import { parseArgs } from "node:util";

const USAGE = `usage: ouro simulate --deployment ID --dataset-version ID --rows N --rate R
         [--url http://127.0.0.1:4000/graphql] [--token T | OURO_TOKEN]
         [--batch-size B] [--label-column C] [--label-delay SECONDS] [--seed S]
         [--shift col=+5 ...] [--scale col=1.5 ...] [--mix 'col=a:0.8,b:0.2' ...] [--flip-labels 0.2]`;

function pairs(values: string[] | undefined, what: string): Record<string, number> | null {
  if (!values?.length) return null;
  return Object.fromEntries(
    values.map((v) => {
      const [col, raw] = v.split(/=(?=[^=]*$)/);
      const n = Number(raw);
      if (!col || !Number.isFinite(n)) throw new Error(`--${what} ${v}: expected column=number`);
      return [col, n];
    }),
  );
}

function mixes(values: string[] | undefined): Record<string, Record<string, number>> | null {
  if (!values?.length) return null;
  return Object.fromEntries(
    values.map((v) => {
      const at = v.indexOf("=");
      if (at < 1) throw new Error(`--mix ${v}: expected column=value:weight,value:weight`);
      const weights = v.slice(at + 1).split(",").map((p) => {
        const cut = p.lastIndexOf(":");
        return [p.slice(0, cut), Number(p.slice(cut + 1))] as const;
      });
      return [v.slice(0, at), Object.fromEntries(weights)];
    }),
  );
}

export async function simulateCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string", default: process.env.OURO_URL ?? "http://127.0.0.1:4000/graphql" },
      token: { type: "string", default: process.env.OURO_TOKEN },
      deployment: { type: "string" },
      "dataset-version": { type: "string" },
      rows: { type: "string" },
      rate: { type: "string" },
      "batch-size": { type: "string" },
      "label-column": { type: "string" },
      "label-delay": { type: "string" },
      seed: { type: "string" },
      shift: { type: "string", multiple: true },
      scale: { type: "string", multiple: true },
      mix: { type: "string", multiple: true },
      "flip-labels": { type: "string" },
    },
  });
  if (!values.deployment || !values["dataset-version"] || !values.rows || !values.rate || !values.token) {
    console.error(USAGE + (values.token ? "" : "\n(no token: pass --token or set OURO_TOKEN)"));
    process.exitCode = 2;
    return;
  }
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(values.url!, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${values.token}` }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: Record<string, any>; errors?: { message: string }[] };
    if (!body.data) throw new Error(body.errors?.map((e) => e.message).join("; ") ?? `HTTP ${res.status}`);
    return body.data;
  };
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const input = {
    deploymentId: values.deployment,
    datasetVersionId: values["dataset-version"],
    rows: num(values.rows),
    rate: num(values.rate),
    batchSize: num(values["batch-size"]),
    labelColumn: values["label-column"],
    labelDelaySeconds: num(values["label-delay"]),
    seed: num(values.seed),
    drift: { shift: pairs(values.shift, "shift"), scale: pairs(values.scale, "scale"), categoryMix: mixes(values.mix), flipLabels: num(values["flip-labels"]) },
  };
  const { simulateTraffic } = await gql(`mutation($i: SimulateTrafficInput!) { simulateTraffic(input: $i) { id } }`, { i: input });
  console.log(`simulation job ${simulateTraffic.id}`);
  for (;;) {
    const { job } = await gql(`query($id: ID!) { job(id: $id) { status progress error result logs(last: 1) { message } } }`, { id: simulateTraffic.id });
    const width = 30;
    const filled = Math.round((job.progress ?? 0) * width);
    process.stdout.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.round((job.progress ?? 0) * 100)}% ${job.logs?.[0]?.message ?? job.status}`.padEnd(110));
    if (["succeeded", "failed", "cancelled"].includes(job.status)) {
      process.stdout.write("\n");
      if (job.status !== "succeeded") throw new Error(`simulation ${job.status}: ${job.error ?? ""}`);
      console.log(JSON.stringify(job.result));
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
