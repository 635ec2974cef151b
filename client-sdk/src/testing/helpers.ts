// Test-only helpers (Node): not exported from the package.
import WebSocket from "ws";
import type { FetchLike } from "../http";

/**
 * A `ws` WebSocket that remembers every open socket, so a test can cut them all
 * (terminate = no close handshake, as when a network drops) and watch the client recover.
 */
export function killableWebSocket() {
  const open = new Set<WebSocket>();
  class KillableWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      open.add(this);
      this.on("close", () => open.delete(this));
    }
  }
  return {
    impl: KillableWebSocket,
    /** Terminates every open socket; returns how many there were. */
    killAll(): number {
      const n = open.size;
      for (const socket of open) socket.terminate();
      return n;
    },
    get openCount() {
      return open.size;
    },
  };
}

export interface RecordedRequest {
  operation: string;
  variables: Record<string, unknown>;
}

/** A fetch that records each GraphQL request (operation name and variables) before sending it. */
export function recordingFetch(inner: FetchLike = (input, init) => fetch(input, init)) {
  const requests: RecordedRequest[] = [];
  const impl: FetchLike = (input, init) => {
    const body = JSON.parse(String(init.body)) as { query: string; variables: Record<string, unknown> };
    const operation = /^\s*(?:query|mutation|subscription)\s+(\w+)/.exec(body.query)?.[1] ?? "anonymous";
    requests.push({ operation, variables: body.variables });
    return inner(input, init);
  };
  return { impl, requests, of: (operation: string) => requests.filter((r) => r.operation === operation) };
}

/** Resolves when `check` returns true, or throws after `timeoutMs` with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Takes items from an async iterator until `stop` says so or `timeoutMs` passes (then returns what it has). */
export async function collect<T>(iterator: AsyncIterator<T>, stop: (items: T[]) => boolean, timeoutMs = 30_000, onItem?: (item: T, items: T[]) => void): Promise<T[]> {
  const items: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!stop(items)) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), remaining)));
    const result = await Promise.race([iterator.next(), timeout]);
    clearTimeout(timer);
    if (result === "timeout" || result.done) break;
    items.push(result.value);
    onItem?.(result.value, items);
  }
  return items;
}
