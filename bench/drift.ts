/**
 * Drift on 1,000,000 reference × 1,000,000 current rows × 10 numeric features (issue 5): KS
 * (statistic and p-value), PSI and Jensen–Shannon per feature, Ouro's drift library beside
 * scipy's ks_2samp + numpy histograms (bench/drift_scipy.py) on the same bytes, in the same run.
 *
 *   node -r @swc-node/register bench/drift.ts [--rows=1000000] [--features=10] [--repeat=3]
 *   BENCH_PYTHON=/tmp/drift-venv/bin/python …   (needs numpy + scipy; default: python3)
 *
 * Data: feature f of the reference is N(f, 1 + f/10); the current side is the same law for even
 * features and shifted by 0.1 and scaled by 1.1 for odd ones (so half the features drift).
 * Both sides are written to a temporary directory as float64 and read by both contenders; the
 * time measured is the computation alone, data already in memory, one thread each (wall clock
 * and process CPU time; on a shared machine CPU time is the steadier of the two). Runs are
 * interleaved, Ouro then scipy, `repeat` times; medians are shown. The two must agree (KS
 * statistics equal to 1e-12, PSI and JS to 1e-9), or the script fails.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { binCountsSorted, equalWidthEdges, jensenShannon, ksFromSorted, numericDrift, psi, sortedFinite } from "../server/src/domains/monitors/drift";

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const ROWS = arg("rows", 1_000_000);
const FEATURES = arg("features", 10);
const REPEAT = arg("repeat", 3);
const BINS = 20;
const PYTHON = process.env.BENCH_PYTHON ?? "python3";

// xorshift128+ → uniform, Box–Muller → normal. Any decent generator will do: both sides read the same bytes.
let s0 = 0x9e3779b9 >>> 0, s1 = 0x243f6a88 >>> 0, s2 = 0xb7e15162 >>> 0, s3 = 0x2545f491 >>> 0;
function uniform(): number {
  const t = s0 ^ (s0 << 11);
  s0 = s1; s1 = s2; s2 = s3;
  s3 = (s3 ^ (s3 >>> 19) ^ t ^ (t >>> 8)) >>> 0;
  return (s3 + 0.5) / 4294967296;
}
function normal(): number {
  return Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function generate(): { ref: Float64Array[]; cur: Float64Array[] } {
  const ref: Float64Array[] = [];
  const cur: Float64Array[] = [];
  for (let f = 0; f < FEATURES; f++) {
    const sd = 1 + f / 10;
    const r = new Float64Array(ROWS);
    const c = new Float64Array(ROWS);
    for (let i = 0; i < ROWS; i++) r[i] = f + sd * normal();
    const shift = f % 2 ? 0.1 : 0;
    const scale = f % 2 ? 1.1 : 1;
    for (let i = 0; i < ROWS; i++) c[i] = f + shift + scale * sd * normal();
    ref.push(r);
    cur.push(c);
  }
  return { ref, cur };
}

interface FeatureDrift { ks: number; p: number; psi: number; js: number }

function ouroDrift(ref: Float64Array, cur: Float64Array): FeatureDrift {
  const d = numericDrift(ref, cur, BINS);
  const hr = d.refCounts;
  const hc = d.curCounts;
  const ks = d.ks;
  return { ks: ks.statistic, p: ks.pValue, psi: psi(hr, hc), js: jensenShannon(hr, hc) };
}

/** The same figures with both sides fully sorted (LSD radix sort), for comparison. */
function ouroDriftBySorting(ref: Float64Array, cur: Float64Array): FeatureDrift {
  const r = sortedFinite(ref);
  const c = sortedFinite(cur);
  const ks = ksFromSorted(r, c);
  const edges = equalWidthEdges(r[0], r[r.length - 1], BINS);
  const hr = binCountsSorted(r, edges);
  const hc = binCountsSorted(c, edges);
  return { ks: ks.statistic, p: ks.pValue, psi: psi(hr, hc), js: jensenShannon(hr, hc) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main() {
  console.log(`drift: ${ROWS.toLocaleString("en")} × ${ROWS.toLocaleString("en")} rows × ${FEATURES} features, ${BINS} bins, ${REPEAT} repeats`);
  const { ref, cur } = generate();
  const dir = mkdtempSync(path.join(os.tmpdir(), "ouro-drift-bench-"));
  try {
    const concat = (parts: Float64Array[]) => {
      const all = new Float64Array(ROWS * FEATURES);
      parts.forEach((p, f) => all.set(p, f * ROWS));
      return Buffer.from(all.buffer);
    };
    writeFileSync(path.join(dir, "ref.f64"), concat(ref));
    writeFileSync(path.join(dir, "cur.f64"), concat(cur));

    // Interleaved: Ouro, then scipy (a fresh process reading the same files; only its work is
    // timed), repeated — so load from other processes on a shared machine hits both alike.
    const ouroTimes: number[] = [];
    const ouroCpu: number[] = [];
    const sortTimes: number[] = [];
    const sortCpu: number[] = [];
    const scipyTimes: number[] = [];
    const scipyCpu: number[] = [];
    let ours: FeatureDrift[] = [];
    let scipyFeatures: FeatureDrift[] | null = null;
    let skipped = "";
    for (let k = 0; k < REPEAT; k++) {
      const c = process.cpuUsage();
      const t = process.hrtime.bigint();
      ours = ref.map((r, f) => ouroDrift(r, cur[f]));
      ouroTimes.push(Number(process.hrtime.bigint() - t) / 1e9);
      const used = process.cpuUsage(c);
      ouroCpu.push((used.user + used.system) / 1e6);
      const c2 = process.cpuUsage();
      const t2 = process.hrtime.bigint();
      const sorted = ref.map((r, f) => ouroDriftBySorting(r, cur[f]));
      sortTimes.push(Number(process.hrtime.bigint() - t2) / 1e9);
      const used2 = process.cpuUsage(c2);
      sortCpu.push((used2.user + used2.system) / 1e6);
      sorted.forEach((x, f) => {
        if (x.ks !== ours[f].ks || Math.abs(x.psi - ours[f].psi) > 1e-12) throw new Error(`feature ${f}: sorting gives ${JSON.stringify(x)}, buckets ${JSON.stringify(ours[f])}`);
      });
      if (skipped) continue;
      const py = spawnSync(PYTHON, [path.join(__dirname, "drift_scipy.py"), dir, String(ROWS), String(FEATURES), String(BINS), "1"], { encoding: "utf8", maxBuffer: 1 << 24 });
      if (py.status !== 0) {
        skipped = (py.stderr || py.error?.message || "").trim().split("\n").pop() ?? "failed";
        continue;
      }
      const out = JSON.parse(py.stdout.trim().split("\n").pop()!) as { seconds: number[]; cpuSeconds: number[]; features: FeatureDrift[] };
      scipyTimes.push(out.seconds[0]);
      scipyCpu.push(out.cpuSeconds[0]);
      scipyFeatures = out.features;
    }
    if (skipped) console.log(`scipy baseline skipped (${PYTHON}: ${skipped}); install numpy and scipy, set BENCH_PYTHON`);
    const scipy = scipyFeatures ? { features: scipyFeatures } : null;
    if (scipy) {
      scipy.features.forEach((s, f) => {
        const o = ours[f];
        const bad = Math.abs(o.ks - s.ks) > 1e-12 || Math.abs(o.psi - s.psi) > 1e-9 || Math.abs(o.js - s.js) > 1e-9;
        if (bad) throw new Error(`feature ${f}: Ouro ${JSON.stringify(o)} vs scipy ${JSON.stringify(s)}`);
      });
    }

    console.log("\nper feature (Ouro; scipy agrees on KS, PSI and JS):");
    console.log("feature | KS D     | KS p (Ouro) | KS p (scipy) | PSI      | JS");
    ours.forEach((o, f) => {
      const sp = scipy ? scipy.features[f].p.toExponential(2) : "-";
      console.log(`${String(f).padStart(7)} | ${o.ks.toFixed(6)} | ${o.p.toExponential(2).padStart(11)} | ${sp.padStart(12)} | ${o.psi.toFixed(6)} | ${o.js.toFixed(6)}`);
    });

    const fmt = (xs: number[]) => xs.map((t) => t.toFixed(3)).join(", ");
    const ouroMed = median(ouroTimes);
    const row = (name: string, wall: number[], cpu: number[]) => console.log(`${name.padEnd(38)} | ${median(wall).toFixed(3).padStart(13)} | ${median(cpu).toFixed(3).padStart(12)} | ${fmt(wall)}`);
    console.log(`\n${"contender".padEnd(38)} | median wall s | median CPU s | wall runs (s)`);
    row("Ouro drift library (bucketed KS)", ouroTimes, ouroCpu);
    row("Ouro, KS by radix-sorting both sides", sortTimes, sortCpu);
    if (scipy) {
      const scipyMed = median(scipyTimes);
      row("scipy ks_2samp + numpy histograms", scipyTimes, scipyCpu);
      const paired = ouroTimes.map((o, i) => scipyTimes[i] / o);
      console.log(`\nratio scipy ÷ Ouro: wall ${(scipyMed / ouroMed).toFixed(2)}× (median of pairs ${median(paired).toFixed(2)}×), CPU ${(median(scipyCpu) / median(ouroCpu)).toFixed(2)}×   (floor ≥ 4×)`);
      console.log(`Ouro: ${ouroMed.toFixed(3)} s wall, ${median(ouroCpu).toFixed(3)} s CPU (floor ≤ 1.5 s)`);
    } else {
      console.log(`\nOuro: ${ouroMed.toFixed(3)} s (floor ≤ 1.5 s); no scipy ratio`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
