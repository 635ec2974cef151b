import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTestCa } from "../../../../../test/helpers/test-ca";
import { fetchToFile, type NetworkSeams, type ResolvedAddress } from "./fetch-url";
import { parseAddressRange } from "../../../platform/net/ip-ranges";

// Every socket in this file goes to 127.0.0.1 (or 127.0.0.2, where the https server plays a
// host with its own certificate): the machine has no other network, and tests must not try. Fake public host names are resolved by the `resolveHost` seam and dialled at
// 127.0.0.1 by the `connectTo` seam, after the production checks have judged the public-looking
// address; nothing is ever resolved by real DNS except "localhost".

const DATA = readFileSync(path.join(process.cwd(), "node_modules/vega-datasets/data/seattle-weather.csv"));
const MiB = 1024 * 1024;

let server: http.Server;
let port: number;
let requests: string[] = [];
let dir: string;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(`${req.headers.host}${req.url}`);
    const url = new URL(req.url ?? "/", "http://x");
    const redirect = (location: string) => res.writeHead(302, { location }).end();
    switch (url.pathname) {
      case "/data":
        return res.writeHead(200, { "content-type": "text/csv", "content-length": DATA.length }).end(DATA);
      case "/chain": {
        const left = Number(url.searchParams.get("n") ?? 0);
        return redirect(left > 0 ? `/chain?n=${left - 1}` : "/data");
      }
      case "/relative":
        return redirect("data");
      case "/loop":
        return redirect("/loop");
      case "/to-loopback":
        return redirect(`http://127.0.0.1:${port}/data`);
      case "/to-mapped-loopback":
        return redirect(`http://[::ffff:127.0.0.1]:${port}/data`);
      case "/to-metadata":
        return redirect("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
      case "/to-file":
        return redirect("file:///etc/passwd");
      case "/to-internal-name":
        return redirect(`http://internal.test:${port}/data`);
      case "/to-other-origin":
        return redirect(`http://public2.test:${port}/echo-auth`);
      case "/echo-auth":
        return res.writeHead(200, { "content-type": "text/plain" }).end(req.headers.authorization ?? "");
      case "/missing":
        return res.writeHead(404).end("no");
      case "/big": // no Content-Length: the limit must hold while streaming
        res.writeHead(200, { "content-type": "application/octet-stream" });
        for (let i = 0; i < 4; i++) res.write(Buffer.alloc(MiB / 2, 120));
        return res.end();
      case "/big-declared":
        res.writeHead(200, { "content-length": 2 * MiB });
        return res.end(Buffer.alloc(2 * MiB, 120));
      case "/slow-headers": {
        const timer = setTimeout(() => res.writeHead(200).end("late"), 3_000);
        timers.add(timer);
        return;
      }
      case "/drip": {
        // slowloris: headers at once, then one byte every 50 ms, forever
        res.writeHead(200, { "content-type": "text/plain" });
        const timer = setInterval(() => res.write("x"), 50);
        timers.add(timer);
        res.on("close", () => clearInterval(timer));
        return;
      }
      default:
        return res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const timer of timers) clearTimeout(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  dir = mkdtempSync(path.join(os.tmpdir(), "ouro-fetch-"));
  return () => rmSync(dir, { recursive: true, force: true });
});

const local = (p: string) => `http://127.0.0.1:${port}${p}`;
const dest = () => path.join(dir, "download.bin");
const leftovers = () => readdirSync(dir);
const base = { maxBytes: 10 * MiB, timeoutMs: 5_000 };

/** Fake DNS: public-looking names resolve to public addresses; every dial goes to 127.0.0.1. */
function fakeNetwork(table: Record<string, string[] | (() => string[])>) {
  const resolved: string[] = [];
  const dialled: string[] = [];
  const seams: NetworkSeams = {
    resolveHost: async (host) => {
      resolved.push(host);
      const entry = table[host];
      if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      const addresses = typeof entry === "function" ? entry() : entry;
      return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
    connectTo: (checked) => {
      dialled.push(checked.address);
      return { address: "127.0.0.1", family: 4 };
    },
  };
  return { seams, resolved, dialled };
}

const PUBLIC = { "public.test": ["93.184.215.14"], "public2.test": ["93.184.215.15"], "internal.test": ["10.0.0.7"] };

describe("fetchToFile with private addresses allowed (trusted setups, and how these tests reach 127.0.0.1)", () => {
  it("downloads a real file and reports its size, type and URL", async () => {
    const result = await fetchToFile(local("/data"), dest(), { ...base, allowPrivate: true });
    expect(result).toEqual({ bytes: DATA.length, contentType: "text/csv", finalUrl: local("/data") });
    expect(readFileSync(dest()).equals(DATA)).toBe(true);
    expect(leftovers()).toEqual(["download.bin"]);
  });

  it("follows a chain of 5 redirects, relative ones included", async () => {
    const result = await fetchToFile(local("/chain?n=4"), dest(), { ...base, allowPrivate: true });
    expect(result.finalUrl).toBe(local("/data"));
    expect(requests).toHaveLength(6);
    const relative = await fetchToFile(local("/relative"), path.join(dir, "r.bin"), { ...base, allowPrivate: true });
    expect(relative.finalUrl).toBe(local("/data"));
  });

  it("refuses a sixth redirect, and a redirect loop", async () => {
    await expect(fetchToFile(local("/chain?n=5"), dest(), { ...base, allowPrivate: true })).rejects.toThrow(/too many redirects \(more than 5\)/);
    await expect(fetchToFile(local("/loop"), dest(), { ...base, allowPrivate: true, maxRedirects: 2 })).rejects.toThrow(/more than 2/);
    expect(leftovers()).toEqual([]);
  });

  it("stops a body without Content-Length at maxBytes and keeps nothing", async () => {
    await expect(fetchToFile(local("/big"), dest(), { ...base, maxBytes: MiB, allowPrivate: true })).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
    });
    expect(leftovers()).toEqual([]);
  });

  it("refuses a declared Content-Length over maxBytes before reading the body", async () => {
    await expect(fetchToFile(local("/big-declared"), dest(), { ...base, maxBytes: MiB, allowPrivate: true })).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
    });
    expect(leftovers()).toEqual([]);
  });

  it("accepts a body of exactly maxBytes", async () => {
    const result = await fetchToFile(local("/data"), dest(), { ...base, maxBytes: DATA.length, allowPrivate: true });
    expect(result.bytes).toBe(DATA.length);
  });

  it("times out on a server that never answers", async () => {
    const started = Date.now();
    await expect(fetchToFile(local("/slow-headers"), dest(), { ...base, timeoutMs: 300, allowPrivate: true })).rejects.toThrow(
      /did not finish within 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(leftovers()).toEqual([]);
  });

  it("times out on a server that drips one byte at a time (slowloris) and deletes the partial file", async () => {
    await expect(fetchToFile(local("/drip"), dest(), { ...base, timeoutMs: 400, allowPrivate: true })).rejects.toThrow(
      /did not finish within 400 ms/,
    );
    expect(leftovers()).toEqual([]);
  });

  it("reports an HTTP error status", async () => {
    await expect(fetchToFile(local("/missing"), dest(), { ...base, allowPrivate: true })).rejects.toThrow(/answered HTTP 404/);
  });

  it("reaches 127.0.0.1 through the hex spelling 0x7f.1, which is why it must be blocked by address", async () => {
    const result = await fetchToFile(`http://0x7f.1:${port}/data`, dest(), { ...base, allowPrivate: true });
    expect(result.bytes).toBe(DATA.length);
  });

  it("sends URL credentials to their own origin only", async () => {
    const same = await fetchToFile(`http://user:pw@127.0.0.1:${port}/echo-auth`, dest(), { ...base, allowPrivate: true });
    expect(readFileSync(dest(), "utf8")).toBe(`Basic ${Buffer.from("user:pw").toString("base64")}`);
    expect(same.finalUrl).not.toContain("pw");
    const net = fakeNetwork(PUBLIC);
    await fetchToFile(`http://user:pw@public.test:${port}/to-other-origin`, path.join(dir, "other.txt"), {
      ...base,
      allowPrivate: false,
      network: net.seams,
    });
    expect(readFileSync(path.join(dir, "other.txt"), "utf8")).toBe("");
  });
});

describe("fetchToFile without private addresses (the default for users)", () => {
  const refusedLiterals: Array<[what: string, url: () => string, says: RegExp]> = [
    ["127.0.0.1", () => local("/data"), /127\.0\.0\.1 is not a public address \(loopback\)/],
    ["localhost (resolved by the system)", () => `http://localhost:${port}/data`, /localhost resolves to (127\.0\.0\.1|::1), which is not a public address \(loopback/],
    ["the cloud metadata address 169.254.169.254", () => "http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is not a public address \(link-local/],
    ["IPv6 loopback [::1]", () => `http://[::1]:${port}/data`, /::1 is not a public address \(loopback/],
    ["IPv4-mapped IPv6 loopback [::ffff:127.0.0.1]", () => `http://[::ffff:127.0.0.1]:${port}/data`, /IPv4-mapped loopback/],
    ["decimal 2130706433", () => `http://2130706433:${port}/data`, /127\.0\.0\.1 is not a public address \(loopback\)/],
    ["hex 0x7f000001", () => `http://0x7f000001:${port}/data`, /127\.0\.0\.1 is not a public address \(loopback\)/],
    ["hex dotted 0x7f.1", () => `http://0x7f.1:${port}/data`, /127\.0\.0\.1 is not a public address \(loopback\)/],
    ["octal 0177.0.0.1", () => `http://0177.0.0.1:${port}/data`, /127\.0\.0\.1 is not a public address \(loopback\)/],
    ["short 127.1", () => `http://127.1:${port}/data`, /127\.0\.0\.1 is not a public address \(loopback\)/],
    ["0.0.0.0", () => `http://0.0.0.0:${port}/data`, /0\.0\.0\.0 is not a public address \(unspecified/],
    ["a private 10/8 address", () => "http://10.0.0.1/", /private/],
    ["a private 192.168/16 address", () => "http://192.168.0.1/", /private/],
    ["a private 172.16/12 address", () => "http://172.16.5.4/", /private/],
    ["a CGNAT 100.64/10 address", () => "http://100.64.0.1/", /carrier-grade NAT/],
    ["an IPv6 unique local address", () => "http://[fd00::1]/", /unique local/],
    ["an IPv6 link-local address", () => "http://[fe80::1]/", /link-local/],
  ];
  for (const [what, url, says] of refusedLiterals) {
    it(`refuses ${what} without connecting`, async () => {
      await expect(fetchToFile(url(), dest(), { ...base, allowPrivate: false })).rejects.toThrow(says);
      expect(requests).toEqual([]);
      expect(leftovers()).toEqual([]);
    });
  }

  it("downloads from a public host (fake DNS, dialled at the local server)", async () => {
    const net = fakeNetwork(PUBLIC);
    const result = await fetchToFile(`http://public.test:${port}/data`, dest(), { ...base, allowPrivate: false, network: net.seams });
    expect(result.bytes).toBe(DATA.length);
    expect(net.dialled).toEqual(["93.184.215.14"]);
    expect(requests).toEqual([`public.test:${port}/data`]); // the Host header is the name, not the address
  });

  it("refuses a redirect from a public host to 127.0.0.1, naming the hop", async () => {
    const net = fakeNetwork(PUBLIC);
    await expect(
      fetchToFile(`http://public.test:${port}/to-loopback`, dest(), { ...base, allowPrivate: false, network: net.seams }),
    ).rejects.toThrow(new RegExp(`redirect 1 \\(from http://public.test:${port}/to-loopback to http://127.0.0.1:${port}/data\\) is refused: 127.0.0.1 is not a public address \\(loopback\\)`));
    expect(requests).toEqual([`public.test:${port}/to-loopback`]); // the hop to 127.0.0.1 was never made
    expect(leftovers()).toEqual([]);
  });

  it("refuses redirects to the metadata service, to IPv4-mapped loopback and to a name resolving to 10/8", async () => {
    const net = fakeNetwork(PUBLIC);
    const opts = { ...base, allowPrivate: false, network: net.seams };
    await expect(fetchToFile(`http://public.test:${port}/to-metadata`, dest(), opts)).rejects.toThrow(/redirect 1 .* 169\.254\.169\.254 is not a public address \(link-local/);
    await expect(fetchToFile(`http://public.test:${port}/to-mapped-loopback`, dest(), opts)).rejects.toThrow(/redirect 1 .*is not a public address \(IPv4-mapped loopback\)/);
    await expect(fetchToFile(`http://public.test:${port}/to-internal-name`, dest(), opts)).rejects.toThrow(
      /redirect 1 .* internal\.test resolves to 10\.0\.0\.7, which is not a public address \(private\)/,
    );
    expect(net.dialled).toEqual(["93.184.215.14", "93.184.215.14", "93.184.215.14"]);
  });

  it("refuses a redirect to a file:// URL", async () => {
    const net = fakeNetwork(PUBLIC);
    await expect(fetchToFile(`http://public.test:${port}/to-file`, dest(), { ...base, allowPrivate: false, network: net.seams })).rejects.toThrow(
      /redirect 1 from .* goes to a file URL/,
    );
  });

  it("refuses a name with one public and one loopback address", async () => {
    const net = fakeNetwork({ "mixed.test": ["93.184.215.14", "127.0.0.1"] });
    await expect(fetchToFile(`http://mixed.test:${port}/data`, dest(), { ...base, allowPrivate: false, network: net.seams })).rejects.toThrow(
      /mixed\.test resolves to 127\.0\.0\.1, which is not a public address \(loopback\)/,
    );
    expect(net.dialled).toEqual([]);
  });

  it("resolves once and connects to the checked address, so DNS rebinding to 127.0.0.1 has no effect", async () => {
    let calls = 0;
    const net = fakeNetwork({ "rebind.test": () => (calls++ === 0 ? ["93.184.215.14"] : ["127.0.0.1"]) });
    await fetchToFile(`http://rebind.test:${port}/data`, dest(), { ...base, allowPrivate: false, network: net.seams });
    expect(net.resolved).toEqual(["rebind.test"]);
    expect(net.dialled).toEqual(["93.184.215.14"]);
  });

  it("re-resolves every hop of a redirect chain", async () => {
    const net = fakeNetwork(PUBLIC);
    await fetchToFile(`http://public.test:${port}/chain?n=2`, dest(), { ...base, allowPrivate: false, network: net.seams });
    expect(net.resolved).toEqual(["public.test", "public.test", "public.test", "public.test"]);
  });

  it("refuses schemes other than http and https", async () => {
    for (const url of ["file:///etc/passwd", "ftp://example.com/x.csv", "gopher://127.0.0.1:6379/_INFO", "data:text/csv,a"]) {
      await expect(fetchToFile(url, dest(), { ...base, allowPrivate: false })).rejects.toThrow(/only http and https/);
    }
  });

  it("keeps credentials and query secrets out of error messages", async () => {
    const error = await fetchToFile(`http://alice:s3cret@127.0.0.1:${port}/data?token=abc123`, dest(), { ...base, allowPrivate: false }).catch(
      (e: Error) => e,
    );
    expect(String((error as Error).message)).not.toMatch(/s3cret|alice|abc123/);
    const missing = await fetchToFile(`http://alice:s3cret@127.0.0.1:${port}/missing?token=abc123`, dest(), { ...base, allowPrivate: true }).catch(
      (e: Error) => e,
    );
    expect((missing as Error).message).toMatch(/answered HTTP 404/);
    expect((missing as Error).message).not.toMatch(/s3cret|alice|abc123/);
  });
});

describe("fetchToFile with allowed hosts (private addresses refused, a few let through)", () => {
  const allowing = (...entries: string[]) => ({ ...base, allowPrivate: false, allowedHosts: entries.map(parseAddressRange) });

  it("downloads from an allowed address, also when it is spelled as IPv4-mapped IPv6", async () => {
    expect((await fetchToFile(local("/data"), dest(), allowing("127.0.0.1/32"))).bytes).toBe(DATA.length);
    const mapped = await fetchToFile(`http://[::ffff:127.0.0.1]:${port}/data`, path.join(dir, "mapped.bin"), allowing("127.0.0.1"));
    expect(mapped.bytes).toBe(DATA.length);
  });

  it("refuses an address one past the allowed range, without connecting", async () => {
    await expect(fetchToFile(local("/data"), dest(), allowing("127.0.0.2/31"))).rejects.toThrow(
      /URL http:\/\/127\.0\.0\.1:\d+\/data is refused: 127\.0\.0\.1 is not a public address \(loopback\) and not among the allowed hosts/,
    );
    expect(requests).toEqual([]);
  });

  it("checks every redirect hop: from an allowed host to the metadata address is refused, naming the hop", async () => {
    await expect(fetchToFile(local("/to-metadata"), dest(), allowing("127.0.0.1"))).rejects.toThrow(
      new RegExp(`redirect 1 \\(from http://127.0.0.1:${port}/to-metadata to http://169.254.169.254/latest/meta-data/iam/security-credentials/\\) is refused: 169\\.254\\.169\\.254 is not a public address \\(link-local.*\\) and not among the allowed hosts`),
    );
    expect(requests).toEqual([`127.0.0.1:${port}/to-metadata`]);
    expect(leftovers()).toEqual([]);
  });

  it("never opens a metadata address, even inside an allowed range or spelled through NAT64", async () => {
    for (const [url, entry, says] of [
      ["http://[64:ff9b::a9fe:a9fe]/latest", "64:ff9b::/96", /link-local, where cloud metadata services live, which an allowed range never opens/],
      ["http://[::ffff:169.254.0.23]/", "::ffff:169.254.0.0/120", /link-local, where cloud metadata services live/],
      ["http://169.254.0.23/", "169.254.0.0/24", /link-local, where cloud metadata services live/],
    ] as const) {
      await expect(fetchToFile(url, dest(), allowing(entry)), url).rejects.toThrow(says);
    }
    expect(requests).toEqual([]);
    // A range holding another cloud's metadata address is refused when configured.
    for (const entry of ["100.64.0.0/10", "fd20:ce::/32"]) expect(() => parseAddressRange(entry), entry).toThrow(/covers the cloud metadata address/);
  });

  it("judges a redirect to a name by the address it resolves to", async () => {
    const allowed = fakeNetwork(PUBLIC);
    const ok = await fetchToFile(`http://public.test:${port}/to-internal-name`, dest(), { ...allowing("10.0.0.0/24"), network: allowed.seams });
    expect(ok.finalUrl).toBe(`http://internal.test:${port}/data`);
    expect(allowed.dialled).toEqual(["93.184.215.14", "10.0.0.7"]);
    const refused = fakeNetwork(PUBLIC);
    await expect(
      fetchToFile(`http://public.test:${port}/to-internal-name`, path.join(dir, "no.bin"), { ...allowing("10.0.1.0/24"), network: refused.seams }),
    ).rejects.toThrow(/redirect 1 .* internal\.test resolves to 10\.0\.0\.7, which is not a public address \(private\) and not among the allowed hosts/);
    expect(refused.dialled).toEqual(["93.184.215.14"]);
  });
});

describe("fetchToFile over https with a private CA (an https server on 127.0.0.2)", () => {
  let tlsServer: https.Server;
  let tlsPort: number;
  let caDir: string;
  let extraCa: string[];
  let servernames: Array<string | false | null> = [];

  beforeAll(async () => {
    caDir = mkdtempSync(path.join(os.tmpdir(), "ouro-ca-"));
    const ca = makeTestCa(caDir, "IP:127.0.0.2,DNS:data.internal.test");
    extraCa = [readFileSync(ca.caFile, "utf8")];
    tlsServer = https.createServer({ cert: ca.cert, key: ca.key }, (req, res) => {
      servernames.push((req.socket as TLSSocket).servername);
      if (req.url === "/data") return res.writeHead(200, { "content-type": "text/csv" }).end(DATA);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.2", resolve));
    tlsPort = (tlsServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    tlsServer.closeAllConnections();
    await new Promise((resolve) => tlsServer.close(resolve));
    rmSync(caDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    servernames = [];
  });

  const allowed = { ...base, allowPrivate: false, allowedHosts: [parseAddressRange("127.0.0.2/32")] };
  /** Fake DNS for names of the test server; the socket goes where the name resolves (127.0.0.2). */
  const dns: NetworkSeams = {
    resolveHost: async (host) => {
      if (host.endsWith(".internal.test")) return [{ address: "127.0.0.2", family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    },
  };

  it("downloads from an address the certificate names when its CA is given", async () => {
    const result = await fetchToFile(`https://127.0.0.2:${tlsPort}/data`, dest(), { ...allowed, extraCaCertificates: extraCa });
    expect(result).toMatchObject({ bytes: DATA.length, finalUrl: `https://127.0.0.2:${tlsPort}/data` });
    expect(readFileSync(dest()).equals(DATA)).toBe(true);
  });

  it("refuses the certificate without that CA, saying so and naming the host", async () => {
    await expect(fetchToFile(`https://127.0.0.2:${tlsPort}/data`, dest(), allowed)).rejects.toThrow(
      /download from https:\/\/127\.0\.0\.2:\d+\/data failed: the certificate of 127\.0\.0\.2 is not signed by a trusted CA \(\w+\); .*OURO_INGEST_CA_FILE/,
    );
    expect(leftovers()).toEqual([]);
  });

  it("sends the URL's host name (SNI) and verifies the certificate against it, not against the pinned address", async () => {
    const result = await fetchToFile(`https://data.internal.test:${tlsPort}/data`, dest(), { ...allowed, extraCaCertificates: extraCa, network: dns });
    expect(result.bytes).toBe(DATA.length);
    expect(servernames).toEqual(["data.internal.test"]);
    await expect(
      fetchToFile(`https://other.internal.test:${tlsPort}/data`, path.join(dir, "other.bin"), { ...allowed, extraCaCertificates: extraCa, network: dns }),
    ).rejects.toThrow(/failed: the certificate of other\.internal\.test is not valid for that name \(.*other\.internal\.test/);
    expect(leftovers()).toEqual(["download.bin"]);
  });
});
