import { describe, expect, it } from "vitest";
import { clientAddress, TrustedProxies } from "./client-address";

describe("the caller's address behind trusted proxies", () => {
  const proxies = new TrustedProxies(["10.0.0.0/8", "192.0.2.7", "fd00::/8"]);

  it("believes X-Forwarded-For only from a trusted peer, hop by hop from the right", () => {
    expect(proxies.clientOf("10.1.1.1", "203.0.113.9")).toBe("203.0.113.9");
    // Two proxies in a row: the entry the inner one added is believed because it is trusted too.
    expect(proxies.clientOf("10.1.1.1", "203.0.113.9, 192.0.2.7")).toBe("203.0.113.9");
    // The client wrote an entry itself: the first untrusted hop from the right is the caller.
    expect(proxies.clientOf("10.1.1.1", "1.2.3.4, 203.0.113.9")).toBe("203.0.113.9");
    // A peer that is not a trusted proxy cannot claim another address.
    expect(proxies.clientOf("203.0.113.50", "1.2.3.4")).toBe("203.0.113.50");
    // Ports some proxies add are not part of the address.
    expect(proxies.clientOf("10.1.1.1", "203.0.113.9:51234")).toBe("203.0.113.9");
    expect(proxies.clientOf("10.1.1.1", "[2001:db8::7]:443, 192.0.2.7:80")).toBe("2001:db8::7");
    // The header split over several lines reads as one list.
    expect(proxies.clientOf("10.1.1.1", ["1.2.3.4", "203.0.113.9"])).toBe("203.0.113.9");
  });

  it("stops at a malformed entry and answers the last hop it could trust", () => {
    expect(proxies.clientOf("10.1.1.1", "203.0.113.9, not-an-address")).toBe("10.1.1.1");
    expect(proxies.clientOf("10.1.1.1", "")).toBe("10.1.1.1");
  });

  it("matches IPv4-mapped and IPv6 peers", () => {
    expect(proxies.clientOf("::ffff:10.2.3.4", "2001:db8::1")).toBe("2001:db8::1");
    expect(proxies.clientOf("fd12::5", "203.0.113.9")).toBe("203.0.113.9");
    expect(proxies.has("fe80::1")).toBe(false);
  });

  it("without trusted proxies the socket's peer is the caller", () => {
    expect(clientAddress({ socket: { remoteAddress: "10.1.1.1" }, headers: { "x-forwarded-for": "1.2.3.4" } }, null)).toBe("10.1.1.1");
    expect(clientAddress({ socket: { remoteAddress: "10.1.1.1" }, headers: { "x-forwarded-for": "1.2.3.4" } }, proxies)).toBe("1.2.3.4");
  });

  it("refuses entries that are not addresses or ranges, naming them", () => {
    for (const bad of ["proxy.internal", "10.0.0.0/33", "10.0.0.0/8/1", "fd00::/129", "10.0.0.0/x", ""]) {
      expect(() => new TrustedProxies([bad]), bad).toThrow(`"${bad}" is not an IP address or a CIDR range`);
    }
  });
});
