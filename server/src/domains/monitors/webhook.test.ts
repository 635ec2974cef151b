import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAddressRange } from "../../platform/net/ip-ranges";
import { checkWebhookAddress, deliverWebhook, newWebhookSecret, sign, verifySignature } from "./webhook";

/** Private addresses allowed, or refused (the default). */
const OPEN = { allowPrivate: true, allowedHosts: [] };
const CLOSED = { allowPrivate: false, allowedHosts: [] };

describe("alert webhooks", () => {
  let server: http.Server;
  let url: string;
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  let answer = 200;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(answer).end("ignored");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("signs timestamp.body with HMAC-SHA256, as a receiver recomputes it", async () => {
    const secret = newWebhookSecret();
    expect(secret).not.toBe(newWebhookSecret());
    const body = JSON.stringify({ type: "alert.firing", n: 1 });
    answer = 204;
    expect(await deliverWebhook(url, secret, body, { "x-ouro-delivery": "d1" }, OPEN)).toBe(204);
    const got = received.at(-1)!;
    expect(got.body).toBe(body);
    expect(got.headers["content-type"]).toBe("application/json");
    const ts = String(got.headers["x-ouro-timestamp"]);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
    // Recomputed independently of sign():
    expect(got.headers["x-ouro-signature"]).toBe(`sha256=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`);
    expect(verifySignature(secret, ts, body, String(got.headers["x-ouro-signature"]))).toBe(true);
    expect(verifySignature(secret, ts, body + " ", String(got.headers["x-ouro-signature"]))).toBe(false);
    expect(verifySignature(secret, String(Number(ts) + 1), body, sign(secret, ts, body))).toBe(false);
  });

  it("a non-2xx answer is an error (the job queue retries it)", async () => {
    answer = 503;
    await expect(deliverWebhook(url, "k".repeat(20), "{}", {}, OPEN)).rejects.toThrow(/answered HTTP 503/);
  });

  it("refuses loopback and private addresses unless allowed, at creation and at delivery", async () => {
    const before = received.length;
    await expect(deliverWebhook(url, "k".repeat(20), "{}", {}, CLOSED)).rejects.toThrow(/not a public address/);
    expect(received.length).toBe(before); // nothing was sent
    for (const bad of ["http://127.0.0.1/x", "http://192.168.0.10/x", "http://[fd00::1]/x", "http://0x7f000001/x"]) {
      await expect(checkWebhookAddress(bad, CLOSED)).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    }
    await expect(checkWebhookAddress("http://127.0.0.1/x", OPEN)).resolves.toBeUndefined();
    await expect(checkWebhookAddress("file:///etc/passwd", OPEN)).rejects.toThrow(/http or https/);
    await expect(checkWebhookAddress("http://user:pw@example.com/x", OPEN)).rejects.toThrow(/user name or password/);
    await expect(checkWebhookAddress("not a url", OPEN)).rejects.toThrow(/not a valid URL/);
  });

  it("reaches a listed private host, at creation and at delivery, and nothing else private", async () => {
    answer = 200;
    const onlyThisHost = { allowPrivate: false, allowedHosts: [parseAddressRange("127.0.0.1/32")] };
    await expect(checkWebhookAddress("http://127.0.0.1/x", onlyThisHost)).resolves.toBeUndefined();
    expect(await deliverWebhook(url, "k".repeat(20), "{}", {}, onlyThisHost)).toBe(200);
    for (const other of ["http://127.0.0.2/x", "http://10.0.0.1/x", "http://169.254.169.254/latest"]) {
      await expect(checkWebhookAddress(other, onlyThisHost), other).rejects.toThrow(/not among the allowed hosts/);
    }
  });
});
