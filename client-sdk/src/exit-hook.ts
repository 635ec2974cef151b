/**
 * Node only, reached without importing anything Node-specific: in a browser (or a worker)
 * there is no `process` and these are no-ops. `beforeExit` fires when the event loop has
 * nothing left to do (not on process.exit() or a signal); starting a send keeps the
 * process alive until it is done.
 */
interface NodeProcessLike {
  versions?: { node?: string };
  on(event: "beforeExit", listener: () => void): unknown;
  removeListener(event: "beforeExit", listener: () => void): unknown;
}

function nodeProcess(): NodeProcessLike | null {
  const proc = (globalThis as { process?: Partial<NodeProcessLike> }).process;
  if (!proc?.versions?.node || typeof proc.on !== "function" || typeof proc.removeListener !== "function") return null;
  return proc as NodeProcessLike;
}

/** Calls `listener` when a Node process is about to exit; returns the function that unhooks it. */
export function onBeforeExit(listener: () => void): () => void {
  const proc = nodeProcess();
  if (!proc) return () => undefined;
  proc.on("beforeExit", listener);
  return () => void proc.removeListener("beforeExit", listener);
}
