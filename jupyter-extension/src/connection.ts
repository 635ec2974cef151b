/**
 * The Ouro client the panels share. It talks to the Jupyter server's /ouro/ proxy, never to
 * Ouro itself: the proxy adds the token, so the browser only carries Jupyter's own login
 * (cookie + XSRF header, added by ServerConnection.makeRequest).
 */
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";
import { OuroApiError, OuroClient, OuroError, OuroJobError, OuroNetworkError } from "@ouro/client-sdk";

/** This frontend's version; the server extension must report the same one. */
export const FRONTEND_VERSION: string = process.env.OURO_EXTENSION_VERSION ?? "unknown";

declare const process: { env: Record<string, string | undefined> };

export interface BackendStatus {
  version: string;
  /** The GraphQL endpoint the proxy forwards to ("" when not configured). */
  url: string;
  tokenConfigured: boolean;
  urlChangeAllowed: boolean;
}

/** The frontend and the server extension come from different installs: say how to fix it. */
export class VersionMismatchError extends Error {
  constructor(readonly backend: string) {
    super(
      `The Ouro server extension is version ${backend} but this JupyterLab page runs the Ouro frontend ${FRONTEND_VERSION}. ` +
        "Reinstall with `pip install --force-reinstall ouro-jupyter`, restart JupyterLab and reload the page.",
    );
    this.name = "VersionMismatchError";
  }
}

export class ExtensionServerError extends Error {}

export class OuroConnection {
  readonly settings = ServerConnection.makeSettings();
  private clientInstance: OuroClient | null = null;

  /** GET/PUT one of the proxy's own endpoints (version, config). */
  async api<T>(path: string, init: RequestInit = {}): Promise<T> {
    const url = URLExt.join(this.settings.baseUrl, "ouro", path);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (err) {
      throw new ExtensionServerError(`Cannot reach the Jupyter server: ${(err as Error).message}`);
    }
    const text = await response.text();
    if (response.status === 404) {
      throw new ExtensionServerError(
        "The Ouro server extension is not running in this Jupyter server (no /ouro/ endpoints). Install the Python package " +
          "`ouro-jupyter` in the environment JupyterLab runs from and restart it (`jupyter server extension list` shows it).",
      );
    }
    if (!response.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        /* not JSON: keep the text */
      }
      throw new ExtensionServerError(`The Ouro server extension answered ${response.status}: ${message}`);
    }
    return JSON.parse(text) as T;
  }

  /** The handshake: the backend's version and configuration, checked against ours. */
  async handshake(): Promise<BackendStatus> {
    const status = await this.api<BackendStatus>("version");
    if (status.version !== FRONTEND_VERSION) throw new VersionMismatchError(status.version);
    return status;
  }

  /** Points the proxy at another Ouro server (the "serverUrl" setting); "" means the default. */
  async setServerUrl(url: string): Promise<BackendStatus> {
    return this.api<BackendStatus>("config", { method: "PUT", body: JSON.stringify({ url }) });
  }

  get client(): OuroClient {
    if (!this.clientInstance) {
      const settings = this.settings;
      const wsBase = URLExt.join(settings.wsUrl, "ouro", "graphql-ws");
      this.clientInstance = new OuroClient({
        url: URLExt.join(settings.baseUrl, "ouro", "graphql"),
        wsUrl: settings.token ? `${wsBase}?token=${encodeURIComponent(settings.token)}` : wsBase,
        // The SDK wants a token; the proxy replaces whatever it is with the real one.
        token: "held-by-the-jupyter-server",
        maxRetries: 2,
        fetch: (input, init) => {
          const headers = new Headers(init.headers);
          headers.delete("authorization");
          return ServerConnection.makeRequest(input, { ...init, headers }, settings);
        },
      });
    }
    return this.clientInstance;
  }

  /** Drops the shared client (after the server URL changed): open streams end, new ones reconnect. */
  async reset(): Promise<void> {
    const old = this.clientInstance;
    this.clientInstance = null;
    await old?.close().catch(() => undefined);
  }
}

/** A message a user can act on, for anything the client or the proxy threw. */
export function describeError(err: unknown, what = "This item"): string {
  if (err instanceof VersionMismatchError || err instanceof ExtensionServerError) return err.message;
  if (err instanceof OuroApiError) {
    const ref = err.requestId ? ` (request ${err.requestId})` : "";
    switch (err.code as string) {
      case "OURO_NOT_CONFIGURED":
      case "OURO_UNREACHABLE":
        return err.message;
      case "UNAUTHENTICATED":
        return (
          `Ouro refused the token this Jupyter server uses: ${err.message}. Create a token (\`ouro token create\`), ` +
          "set OURO_TOKEN and restart JupyterLab."
        );
      case "NOT_FOUND":
        return `${what} was not found: it was deleted, or it belongs to a project you cannot see.${ref}`;
      case "FORBIDDEN":
        return `Ouro does not allow this with the configured token: ${err.message}${ref}`;
      default:
        return `${err.message}${ref}`;
    }
  }
  if (err instanceof OuroJobError) return err.message;
  if (err instanceof OuroNetworkError) return `Connection problem: ${err.message}`;
  if (err instanceof OuroError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof OuroApiError && err.code === "NOT_FOUND";
}
