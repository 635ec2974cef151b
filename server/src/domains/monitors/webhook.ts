import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { badInput, OuroError } from "../../platform/errors";
import { checkHop, type NetworkSeams, pinnedLookup, type Reach, redactUrl } from "../../platform/net/url-guard";

// Alert notifications. The receiver checks X-Ouro-Signature = "sha256=" + hex(HMAC-SHA256(secret,
// timestamp + "." + body)) with the X-Ouro-Timestamp header, and may refuse old timestamps to
// stop replays. The address rules are URL ingestion's: http(s) only, every address the host
// resolves to must be public unless OURO_WEBHOOK_ALLOW_PRIVATE_URLS, and the socket is pinned to
// the address checked. Redirects are not followed (a webhook that moved must be edited).

export const SIGNATURE_HEADER = "x-ouro-signature";
export const TIMESTAMP_HEADER = "x-ouro-timestamp";
const TIMEOUT_MS = 10_000;

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString("base64url")}`;
}

export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** For receivers (and tests): constant-time check of a delivery's signature. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const want = Buffer.from(sign(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput("webhookUrl is not a valid URL", { field: "webhookUrl" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw badInput("webhookUrl must be http or https", { field: "webhookUrl" });
  if (url.username || url.password) throw badInput("webhookUrl must not carry a user name or password", { field: "webhookUrl" });
  if (raw.length > 2000) throw badInput("webhookUrl is longer than 2000 characters", { field: "webhookUrl" });
  return url;
}

/** Checks the address now (at rule creation) so a private target is refused up front. */
export async function checkWebhookAddress(raw: string, reach: Reach, network?: NetworkSeams): Promise<void> {
  const url = parseWebhookUrl(raw);
  try {
    await checkHop({ url, index: 0 }, reach.allowPrivate, network, reach.allowedHosts);
  } catch (err) {
    if (err instanceof OuroError) throw new OuroError(err.code, `webhookUrl: ${err.message}`, { field: "webhookUrl" });
    throw err;
  }
}

/** POSTs a signed body; resolves with the status, throws on a refused address, timeout or non-2xx. */
export async function deliverWebhook(raw: string, secret: string, body: string, headers: Record<string, string>, reach: Reach, network?: NetworkSeams): Promise<number> {
  const url = parseWebhookUrl(raw);
  const target = await checkHop({ url, index: 0 }, reach.allowPrivate, network, reach.allowedHosts);
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const client = url.protocol === "https:" ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "POST",
        lookup: pinnedLookup(target, network),
        timeout: TIMEOUT_MS,
        headers: { "content-type": "application/json", "user-agent": "ouro-webhook/1", [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: sign(secret, timestamp, body), ...headers },
      },
      (res) => {
        res.resume(); // the answer's body is not wanted
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(status);
        else reject(new Error(`webhook ${redactUrl(url)} answered HTTP ${status}`));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`webhook ${redactUrl(url)} did not answer within ${TIMEOUT_MS} ms`)));
    req.on("error", (err) => reject(new Error(`webhook ${redactUrl(url)}: ${err.message}`)));
    req.end(body);
  });
}
