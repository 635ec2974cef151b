// Reading the configuration from the environment: what a deployment sets by hand and gets
// wrong. Tried: SQL sources as JSON (valid, not JSON, not an object of postgres URLs, bad
// names); allowed hosts for URL ingestion (addresses and ranges of both families, malformed
// entries named in the message); an extra CA file (real PEM, missing file, no certificate,
// a garbled certificate); and that an unset or empty variable means the default.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTestCa } from "../../../test/helpers/test-ca";
import { inAddressRanges } from "./net/ip-ranges";
import { readConfig } from "./config";

describe("OURO_SQL_SOURCES", () => {
  it("maps names to PostgreSQL URLs", () => {
    const sources = { warehouse: "postgres://reader:pw@db.internal:5432/dw", "crm-2": "postgresql://crm/crm" };
    expect(readConfig({ OURO_SQL_SOURCES: JSON.stringify(sources) }).ingest.sqlSources).toEqual(sources);
  });

  it("means none when unset or empty", () => {
    expect(readConfig({}).ingest.sqlSources).toEqual({});
    expect(readConfig({ OURO_SQL_SOURCES: "" }).ingest.sqlSources).toEqual({});
  });

  it("stops the start with a message naming the variable for text that is not JSON, other URL schemes and bad names", () => {
    for (const value of ["{warehouse: postgres://x}", "[]", '{"w": "http://db/x"}', '{"w": "mysql://db/x"}', '{"w": 5}', '{"bad name": "postgres://db/x"}', '{"../etc": "postgres://db/x"}']) {
      expect(() => readConfig({ OURO_SQL_SOURCES: value }), value).toThrow(/OURO_SQL_SOURCES: (not valid JSON|must map names to postgres:\/\/ URLs)/);
    }
  });
});

describe("OURO_INGEST_ALLOWED_HOSTS", () => {
  it("reads comma-separated IPv4 and IPv6 addresses and ranges, spaces and empty entries ignored", () => {
    const allowed = readConfig({ OURO_INGEST_ALLOWED_HOSTS: " 10.0.0.5, 10.20.0.0/16,,fd12:3456::/32 " }).ingest.allowedHosts;
    expect(allowed.map((r) => r.text)).toEqual(["10.0.0.5", "10.20.0.0/16", "fd12:3456::/32"]);
    expect(["10.0.0.5", "10.20.9.9", "fd12:3456::1"].map((a) => inAddressRanges(a, allowed))).toEqual([true, true, true]);
    expect(["10.0.0.6", "10.21.0.0", "fd12:3457::1", "169.254.169.254"].map((a) => inAddressRanges(a, allowed))).toEqual([false, false, false, false]);
  });

  it("means none when unset or empty", () => {
    expect(readConfig({}).ingest.allowedHosts).toEqual([]);
    expect(readConfig({ OURO_INGEST_ALLOWED_HOSTS: "" }).ingest.allowedHosts).toEqual([]);
  });

  it("stops the start with a message naming the variable and the malformed entry", () => {
    const cases: Array<[value: string, says: RegExp]> = [
      ["10.0.0.5, data.internal", /OURO_INGEST_ALLOWED_HOSTS: "data\.internal" is not an IPv4 or IPv6 address/],
      ["10.0.0.0/33", /OURO_INGEST_ALLOWED_HOSTS: "10\.0\.0\.0\/33" has prefix \/33/],
      ["10.20.1.0/16", /OURO_INGEST_ALLOWED_HOSTS: "10\.20\.1\.0\/16" has address bits set past the \/16 prefix/],
      ["0.0.0.0/0", /OURO_INGEST_ALLOWED_HOSTS: "0\.0\.0\.0\/0" covers the cloud metadata address 169\.254\.169\.254/],
    ];
    for (const [value, says] of cases) expect(() => readConfig({ OURO_INGEST_ALLOWED_HOSTS: value }), value).toThrow(says);
  });
});

describe("OURO_TRUST_PROXY", () => {
  it("reads addresses and ranges, and stops the start naming a malformed entry", () => {
    expect(readConfig({}).auth.trustedProxies).toBeNull();
    const proxies = readConfig({ OURO_TRUST_PROXY: " 10.0.0.0/8, fd00::1 " }).auth.trustedProxies!;
    expect(["10.9.9.9", "fd00::1", "11.0.0.1"].map((a) => proxies.has(a))).toEqual([true, true, false]);
    expect(() => readConfig({ OURO_TRUST_PROXY: "10.0.0.0/8, lb.internal" })).toThrow(/OURO_TRUST_PROXY: "lb\.internal" is not an IP address or a CIDR range/);
  });
});

describe("OURO_INGEST_CA_FILE", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ouro-config-ca-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads every certificate of a PEM file", () => {
    const ca = makeTestCa(dir, "IP:127.0.0.2");
    const bundle = path.join(dir, "bundle.pem");
    writeFileSync(bundle, `# corporate CAs\n${readFileSync(ca.caFile, "utf8")}\n${ca.cert}`);
    const certificates = readConfig({ OURO_INGEST_CA_FILE: bundle }).ingest.extraCaCertificates;
    expect(certificates).toHaveLength(2);
    expect(certificates[0]).toBe(readFileSync(ca.caFile, "utf8").trim());
  });

  it("means no extra CA when unset or empty", () => {
    expect(readConfig({}).ingest.extraCaCertificates).toEqual([]);
    expect(readConfig({ OURO_INGEST_CA_FILE: "" }).ingest.extraCaCertificates).toEqual([]);
  });

  it("stops the start for a missing file, a file without certificates and a garbled certificate", () => {
    const missing = path.join(dir, "missing.pem");
    expect(() => readConfig({ OURO_INGEST_CA_FILE: missing })).toThrow(/OURO_INGEST_CA_FILE: .*missing\.pem cannot be read \(ENOENT\)/);
    const key = path.join(dir, "key-only.pem");
    writeFileSync(key, "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n");
    expect(() => readConfig({ OURO_INGEST_CA_FILE: key })).toThrow(/OURO_INGEST_CA_FILE: .*key-only\.pem holds no PEM certificate/);
    const garbled = path.join(dir, "garbled.pem");
    writeFileSync(garbled, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    expect(() => readConfig({ OURO_INGEST_CA_FILE: garbled })).toThrow(/OURO_INGEST_CA_FILE: .*garbled\.pem holds a certificate that cannot be parsed/);
  });
});
