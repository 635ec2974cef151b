import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import tls from "node:tls";
import { badInput, OuroError } from "../../../platform/errors";
import type { AddressRange } from "../../../platform/net/ip-ranges";
import { checkHop, type Hop, type NetworkSeams, pinnedLookup, redactUrl, type ResolvedAddress } from "../../../platform/net/url-guard";

export { redactUrl } from "../../../platform/net/url-guard";
export type { NetworkSeams, ResolvedAddress } from "../../../platform/net/url-guard";

export interface FetchOptions {
  /** Bytes accepted in the body; past it the download stops and nothing is kept. */
  maxBytes: number;
  /** For the whole download, every redirect and a server that drips bytes included. */
  timeoutMs: number;
  /** Allow loopback, private, link-local and other non-public addresses (trusted setups only). */
  allowPrivate: boolean;
  /** Non-public addresses and ranges reachable even when allowPrivate is off (an internal data server). */
  allowedHosts?: readonly AddressRange[];
  /** PEM certificates of extra CAs trusted for https, besides Node's default ones (a corporate CA). */
  extraCaCertificates?: readonly string[];
  /** Redirects followed, each one checked like the first URL (default 5). */
  maxRedirects?: number;
  /** For tests only: see NetworkSeams. Production leaves this unset. */
  network?: NetworkSeams;
}

export interface FetchResult {
  bytes: number;
  contentType: string | null;
  /** Where the bytes came from after redirects, without user name or password. */
  finalUrl: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Downloads `url` into `dest`, defending the server it runs on: http(s) only; every hop's
 * host resolved once, all its addresses checked, and the socket pinned to the checked one
 * (so a DNS answer that changes between check and connect, "DNS rebinding", cannot steer
 * it); redirects followed by hand and each checked again; size and time bounded while
 * streaming. `dest` appears only when the download is complete.
 */
export async function fetchToFile(url: string, dest: string, opts: FetchOptions): Promise<FetchResult> {
  const maxRedirects = opts.maxRedirects ?? 5;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  const partial = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomUUID()}.partial`);
  let hop: Hop = { url: parseUserUrl(url), index: 0 };
  const ca = opts.extraCaCertificates?.length ? [...tls.getCACertificates("default"), ...opts.extraCaCertificates] : undefined;
  try {
    for (;;) {
      const target = await abortable(checkHop(hop, opts.allowPrivate, opts.network, opts.allowedHosts), controller.signal);
      const response = await get(hop.url, target, { signal: controller.signal, seams: opts.network, ca });
      if (REDIRECTS.has(response.statusCode ?? 0)) {
        response.destroy(); // the body of a redirect is not wanted
        hop = nextHop(hop, response.headers.location, maxRedirects);
        continue;
      }
      if (!response.statusCode || response.statusCode < 200 || response.statusCode > 299) {
        response.destroy();
        throw badInput(`${redactUrl(hop.url)} answered HTTP ${response.statusCode ?? "?"}`, { status: response.statusCode });
      }
      const declared = Number(response.headers["content-length"]);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        response.destroy();
        throw tooLarge(hop.url, opts.maxBytes);
      }
      let bytes = 0;
      await pipeline(
        response,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            bytes += chunk.length;
            if (bytes > opts.maxBytes) throw tooLarge(hop.url, opts.maxBytes);
            yield chunk;
          }
        },
        createWriteStream(partial, { flags: "wx" }),
        { signal: controller.signal },
      );
      await rename(partial, dest);
      return { bytes, contentType: headerValue(response.headers["content-type"]), finalUrl: withoutCredentials(hop.url) };
    }
  } catch (err) {
    await rm(partial, { force: true });
    if (controller.signal.aborted) {
      throw badInput(`download from ${redactUrl(hop.url)} did not finish within ${opts.timeoutMs} ms`, { timeoutMs: opts.timeoutMs });
    }
    if (err instanceof OuroError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const certificate = certificateProblem(err as NodeJS.ErrnoException, hop.url);
    if (certificate) throw badInput(`download from ${redactUrl(hop.url)} failed: ${certificate}`, { code });
    throw badInput(`download from ${redactUrl(hop.url)} failed: ${code ?? (err as Error).message}`, code ? { code } : undefined);
  } finally {
    clearTimeout(timer);
  }
}

function parseUserUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badInput("the URL is not valid");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw badInput(`only http and https URLs can be downloaded, not ${parsed.protocol.replace(/:$/, "")}`);
  }
  return parsed;
}

function nextHop(hop: Hop, location: string | undefined, maxRedirects: number): Hop {
  const index = hop.index + 1;
  if (!location) throw badInput(`${redactUrl(hop.url)} answered with a redirect but no Location`);
  if (index > maxRedirects) throw badInput(`too many redirects (more than ${maxRedirects}), the last from ${redactUrl(hop.url)}`);
  let next: URL;
  try {
    next = new URL(location, hop.url);
  } catch {
    throw badInput(`redirect ${index} from ${redactUrl(hop.url)} has an invalid Location`);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw badInput(`redirect ${index} from ${redactUrl(hop.url)} goes to a ${next.protocol.replace(/:$/, "")} URL; only http and https are followed`);
  }
  // Credentials typed by the user are for the host they typed; another origin never sees them.
  if (next.origin !== hop.url.origin) {
    next.username = "";
    next.password = "";
  }
  return { url: next, index, from: hop.url };
}

interface GetOptions {
  signal: AbortSignal;
  seams: NetworkSeams | undefined;
  /** Every CA trusted for https (Node's default ones plus the configured extras); unset: Node's default. */
  ca: string[] | undefined;
}

function get(url: URL, target: ResolvedAddress, { signal, seams, ca }: GetOptions): Promise<http.IncomingMessage> {
  const lookup = pinnedLookup(target, seams);
  // A fresh agent per hop, without keep-alive: a pooled socket to another address must never
  // be reused for this host. Only the socket's address is pinned: TLS still sends the URL's
  // host name (SNI) and checks the certificate against it, not against the address dialled.
  const agent = url.protocol === "https:" ? new https.Agent({ lookup, keepAlive: false, ...(ca ? { ca } : {}) }) : new http.Agent({ lookup, keepAlive: false });
  const request = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent, signal, headers: { "user-agent": "ouro-fetch/1", accept: "*/*" } }, (res) => {
      res.once("close", () => agent.destroy());
      resolve(res);
    });
    req.once("error", (err) => {
      agent.destroy();
      reject(err);
    });
    req.end();
  });
}

/** DNS lookups cannot be cancelled; the deadline still applies to waiting for them. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** OpenSSL's names for a chain that does not lead to a trusted CA: what a private CA looks like. */
const UNTRUSTED_CHAIN = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
]);

/** A refused server certificate in words, naming the host; undefined for other errors. */
function certificateProblem(err: NodeJS.ErrnoException, url: URL): string | undefined {
  const code = err.code ?? "";
  const host = url.hostname;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `the certificate of ${host} is not valid for that name (${err.message})`;
  if (UNTRUSTED_CHAIN.has(code)) {
    return `the certificate of ${host} is not signed by a trusted CA (${code}); if a private CA signs it, give that CA's certificate in OURO_INGEST_CA_FILE`;
  }
  if (code.includes("CERT")) return `the certificate of ${host} was refused (${code})`;
  return undefined;
}

function tooLarge(url: URL, maxBytes: number) {
  return new OuroError("PAYLOAD_TOO_LARGE", `download from ${redactUrl(url)} is larger than ${maxBytes} bytes`, { maxBytes });
}

function withoutCredentials(url: URL): string {
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  return copy.toString();
}

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? (value[0] ?? null) : (value ?? null));
