// Entry of a task subprocess: loads the TypeScript module named by the parent, runs one
// exported function on the input and reports over IPC, then exits (one job per process).
// Plain JavaScript so Node can start it.
//
// Messages from the parent, handled in order:
//   { type: "preload", modulePath }           load the module ahead of time (a warm spare; see
//                                              subprocess.ts) — a failure here is ignored and
//                                              surfaces again, with its message, when it runs
//   { modulePath, exportName, input }         run it (the only message a cold child gets)
require("@swc-node/register");

// A parent that dies (worker crash, SIGKILL) closes the channel: nothing can receive a result
// any more, so stop rather than linger as an orphan (an idle spare would otherwise live forever).
process.on("disconnect", () => process.exit(0));

let started = false;
process.on("message", async (msg) => {
  if (msg && msg.type === "preload") {
    try {
      require(msg.modulePath);
    } catch {
      // reported when the job runs
    }
    return;
  }
  if (started) return;
  started = true;
  const { modulePath, exportName, input } = msg;
  try {
    const fn = require(modulePath)[exportName];
    if (typeof fn !== "function") throw new Error(`${exportName} is not a function of ${modulePath}`);
    const report = (fraction, message) => process.send({ type: "progress", fraction, message });
    const emit = (data) => process.send({ type: "event", data });
    const result = await fn(input, report, emit);
    process.send({ type: "result", result }, () => process.exit(0));
  } catch (err) {
    // A client-facing error keeps its code (e.g. BAD_USER_INPUT) across the process boundary.
    const code = err && typeof err.code === "string" && err.name === "OuroError" ? err.code : undefined;
    process.send({ type: "error", message: err && err.message ? err.message : String(err), code }, () => process.exit(1));
  }
});
