import type { HttpTransport } from "../http";
import type { WsConnection } from "../live";
import type { RunHandle, RunHandleOptions } from "../run-handle";

/** What the resource APIs share: the transports and the client's open runs. */
export interface ClientContext {
  http: HttpTransport;
  ws: WsConnection;
  runDefaults: RunHandleOptions;
  trackRun(handle: RunHandle): void;
  untrackRun(handle: RunHandle): void;
}
