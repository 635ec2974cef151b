// Entry of a task subprocess: loads the TypeScript module named by the parent, runs one
// exported function on the input and reports over IPC. Plain JavaScript so Node can start it.
require("@swc-node/register");

process.once("message", async ({ modulePath, exportName, input }) => {
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
