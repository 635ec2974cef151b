import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { createClient, type Client } from "graphql-ws";
import { backoffDelay, sleep, STREAM_BACKOFF } from "./backoff";
import { apiError, isRecord, OuroApiError, OuroNetworkError, type ServerErrorEntry } from "./errors";
import { queryText } from "./http";

/** Anything constructed like the WHATWG WebSocket: the browser's, Node 22+'s global, or the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

export interface WsConnectionOptions {
  url: string;
  token: string;
  webSocketImpl?: WebSocketConstructor;
  /** Ping the server this often (ms); a pong missing for `pongTimeoutMs` drops the socket so streams reconnect. 0 disables. */
  keepAliveMs?: number;
  pongTimeoutMs?: number;
}

interface SocketLike {
  readyState: number;
  close(code?: number, reason?: string): void;
}

/**
 * One graphql-ws client shared by every stream of an OuroClient. It never retries by itself:
 * graphql-ws would resubscribe with the original variables (and so the original cursor),
 * repeating events. Each LiveStream reconnects on its own, with its latest cursor.
 */
export class WsConnection {
  private client: Client | null = null;
  private closed = false;

  constructor(private readonly options: WsConnectionOptions) {}

  subscribe(query: string, variables: Record<string, unknown>, sink: { next(value: unknown): void; error(err: unknown): void; complete(): void }): () => void {
    return this.get().subscribe({ query, variables }, {
      next: (value) => sink.next(value),
      error: (err) => sink.error(err),
      complete: () => sink.complete(),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.dispose();
  }

  private get(): Client {
    if (this.closed) throw new OuroNetworkError("the OuroClient was closed", { retryable: false });
    if (this.client) return this.client;
    const impl = this.options.webSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) throw new OuroNetworkError("no WebSocket available: pass `webSocketImpl` (e.g. the `ws` package) to OuroClient", { retryable: false });
    const keepAlive = this.options.keepAliveMs ?? 15_000;
    const pongTimeout = this.options.pongTimeoutMs ?? 10_000;
    let active: SocketLike | null = null;
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    this.client = createClient({
      url: this.options.url,
      webSocketImpl: impl,
      connectionParams: { authorization: `Bearer ${this.options.token}` },
      lazy: true,
      lazyCloseTimeout: 1_000,
      retryAttempts: 0,
      keepAlive,
      on: {
        connected: (socket) => {
          active = socket as SocketLike;
        },
        closed: () => {
          active = null;
          clearTimeout(pongTimer);
        },
        ping: (received) => {
          if (received || !keepAlive) return;
          clearTimeout(pongTimer);
          pongTimer = setTimeout(() => {
            if (active?.readyState === 1) active.close(4408, "pong timeout");
          }, pongTimeout);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
      },
    });
    return this.client;
  }
}

// Close codes after which reconnecting cannot help (graphql-ws protocol errors, frame too big).
const FATAL_CLOSE_CODES = new Set([1002, 1003, 1007, 1009, 1010, 4004, 4400, 4406, 4409, 4429]);

/** What a graphql-ws sink error means for a client. */
export function errorFromSubscription(err: unknown): OuroApiError | OuroNetworkError {
  if (Array.isArray(err)) return OuroApiError.fromEntries(err as ServerErrorEntry[]);
  if (isRecord(err) && typeof err.code === "number") {
    const code = err.code;
    const reason = typeof err.reason === "string" && err.reason ? ` ${err.reason}` : "";
    if (code === 4401 || code === 4403) {
      return apiError({ code: "UNAUTHENTICATED", message: `the server refused the token (WebSocket closed: ${code}${reason})` });
    }
    return new OuroNetworkError(`WebSocket closed: ${code}${reason}`, { closeCode: code, retryable: !FATAL_CLOSE_CODES.has(code) });
  }
  if (err instanceof OuroNetworkError || err instanceof OuroApiError) return err;
  const message = err instanceof Error ? err.message : isRecord(err) && typeof err.message === "string" ? err.message : "connection failed";
  return new OuroNetworkError(`WebSocket error: ${message}`, { cause: err });
}

export interface LiveSpec<TData, TItem> {
  query: string;
  variables(after: string | null): Record<string, unknown>;
  /** The items of one event, the cursor after them, and whether the stream is complete. */
  extract(data: TData): { items: TItem[]; cursor: string; done?: boolean };
}

export interface LiveOptions {
  /** Resume after this cursor (from the beginning when omitted). */
  after?: string | null;
  /** Aborting ends the stream, like `close()`. */
  signal?: AbortSignal;
  /** Reconnects in a row (without an event between) before giving up. Default: forever. */
  maxReconnects?: number;
  /** Called before each reconnect with what went wrong. */
  onReconnect?: (error: OuroNetworkError | OuroApiError, attempt: number, delayMs: number) => void;
  /**
   * When this many items wait for a slow consumer, the stream unsubscribes and resumes from
   * its cursor once the consumer has caught up, so memory stays bounded. Default 50,000.
   */
  highWaterMark?: number;
}

interface Buffered<T> {
  item: T;
  /** Set on the last item of an event: the cursor after it. */
  cursor?: string;
}

/**
 * An async iterator over a subscription that takes `after: Cursor`. It reconnects with
 * backoff after network errors and resumes from the cursor after the last event received,
 * so the consumer sees every item exactly once. Server refusals (bad token, not found) end
 * it with an OuroApiError thrown from `next()`.
 *
 * `cursor` is the position after the last *complete event* handed to the consumer: store it
 * and pass it as `after` later to continue.
 */
export class LiveStream<T> implements AsyncIterableIterator<T> {
  private buffer: Buffered<T>[] = [];
  private resumeCursor: string | null;
  private delivered: string | null;
  private failure: unknown = null;
  private ended = false;
  private closed = false;
  private started = false;
  private paused = false;
  private generation = 0;
  private attempt = 0;
  private unsubscribe: (() => void) | null = null;
  private waiters: (() => void)[] = [];
  private reconnectAbort: AbortController | null = null;
  private readonly highWaterMark: number;
  /** The last error that made the stream reconnect, if any. */
  lastError: OuroNetworkError | OuroApiError | null = null;

  constructor(
    private readonly ws: WsConnection,
    private readonly spec: LiveSpec<unknown, T>,
    private readonly options: LiveOptions = {},
  ) {
    this.resumeCursor = options.after ?? null;
    this.delivered = this.resumeCursor;
    this.highWaterMark = Math.max(1, options.highWaterMark ?? 50_000);
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
    if (options.signal?.aborted) this.closed = true;
  }

  /** Position after the last complete event handed out; pass as `after` to continue later. */
  get cursor(): string | null {
    return this.delivered;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    if (!this.started && !this.closed) {
      this.started = true;
      this.connect();
    }
    for (;;) {
      const head = this.buffer.shift();
      if (head) {
        if (head.cursor !== undefined) this.delivered = head.cursor;
        if (this.paused && this.buffer.length <= this.highWaterMark / 2) {
          this.paused = false;
          this.connect();
        }
        return { value: head.item, done: false };
      }
      if (this.failure) {
        const err = this.failure;
        this.failure = null;
        this.ended = true;
        throw err;
      }
      if (this.ended || this.closed) return { value: undefined, done: true };
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Ends the stream: unsubscribes, and a pending `next()` resolves as done. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    this.stopSubscription();
    this.reconnectAbort?.abort();
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private stopSubscription(): void {
    this.generation++;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    unsubscribe?.();
  }

  private connect(): void {
    if (this.closed || this.ended) return;
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.closed;
    try {
      this.unsubscribe = this.ws.subscribe(this.spec.query, this.spec.variables(this.resumeCursor), {
        next: (result) => {
          if (current()) this.onResult(result);
        },
        error: (err) => {
          if (!current()) return;
          this.unsubscribe = null;
          this.onError(errorFromSubscription(err));
        },
        complete: () => {
          if (!current()) return;
          this.unsubscribe = null;
          this.ended = true;
          this.notify();
        },
      });
    } catch (err) {
      this.onError(errorFromSubscription(err));
    }
  }

  private onResult(result: unknown): void {
    const errors = isRecord(result) && Array.isArray(result.errors) ? (result.errors as ServerErrorEntry[]) : [];
    if (errors.length || !isRecord(result) || !isRecord(result.data)) {
      this.stopSubscription();
      this.failure = errors.length ? OuroApiError.fromEntries(errors) : new OuroNetworkError("subscription event without data", { retryable: false });
      this.notify();
      return;
    }
    const { items, cursor, done } = this.spec.extract(result.data);
    this.attempt = 0;
    this.resumeCursor = cursor;
    if (items.length === 0) {
      if (this.buffer.length === 0) this.delivered = cursor;
      else this.buffer[this.buffer.length - 1]!.cursor = cursor;
    }
    items.forEach((item, i) => this.buffer.push(i === items.length - 1 ? { item, cursor } : { item }));
    if (done) {
      this.ended = true;
      this.stopSubscription();
    } else if (this.buffer.length > this.highWaterMark && !this.paused) {
      // Stop receiving; next() resumes from resumeCursor once the consumer catches up.
      this.paused = true;
      this.stopSubscription();
    }
    this.notify();
  }

  private onError(error: OuroApiError | OuroNetworkError): void {
    const attempt = this.attempt++;
    const limit = this.options.maxReconnects ?? Number.POSITIVE_INFINITY;
    if (!error.retryable || attempt >= limit) {
      this.failure = error;
      this.notify();
      return;
    }
    this.lastError = error;
    const delay = backoffDelay(attempt, STREAM_BACKOFF);
    this.options.onReconnect?.(error, attempt + 1, delay);
    const abort = new AbortController();
    this.reconnectAbort = abort;
    sleep(delay, abort.signal).then(
      () => {
        if (this.reconnectAbort === abort) this.reconnectAbort = null;
        this.connect();
      },
      () => undefined,
    );
  }
}

/** A LiveStream over a typed subscription document. */
export function liveStream<TData, TVariables extends Record<string, unknown>, T>(
  ws: WsConnection,
  spec: {
    document: TypedDocumentNode<TData, TVariables>;
    variables(after: string | null): TVariables;
    extract(data: TData): { items: T[]; cursor: string; done?: boolean };
  },
  options: LiveOptions = {},
): LiveStream<T> {
  return new LiveStream<T>(ws, {
    query: queryText(spec.document),
    variables: spec.variables,
    extract: (data) => spec.extract(data as TData),
  }, options);
}
