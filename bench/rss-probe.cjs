// Preloaded with NODE_OPTIONS="--require …/rss-probe.cjs" into the bench server, and so into
// every task subprocess it forks (they inherit the environment). At exit each process appends
// one JSON line to $BENCH_RSS_LOG with its own peak resident set size (getrusage ru_maxrss,
// kept by the kernel: no sampling, nothing missed) and its CPU time. Plain JavaScript so it
// loads before @swc-node/register; it only reads counters, so it changes no behaviour.
const { appendFileSync } = require("node:fs");

const log = process.env.BENCH_RSS_LOG;
if (log) {
  process.on("exit", (code) => {
    const u = process.resourceUsage();
    const line = {
      pid: process.pid,
      ppid: process.ppid,
      code,
      maxRssKb: u.maxRSS,
      cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
      startMs: performance.timeOrigin,
      endMs: performance.timeOrigin + performance.now(),
    };
    appendFileSync(log, JSON.stringify(line) + "\n");
  });
}
