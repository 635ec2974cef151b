import { describe, expect, it } from "vitest";
import { blockedReason, inAddressRanges, ipv6Bytes, parseAddressRange } from "./ip-ranges";

describe("blockedReason refuses", () => {
  const blocked: Array<[address: string, reason: string]> = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "benchmarking"],
    ["192.0.2.1", "documentation"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["[::1]", "loopback"],
    ["fc00::1", "unique local"],
    ["fd12:3456::1", "unique local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:7f00:1", "IPv4-mapped loopback"],
    ["::ffff:169.254.169.254", "IPv4-mapped link-local"],
    ["::ffff:10.0.0.1", "IPv4-mapped private"],
    ["64:ff9b::127.0.0.1", "NAT64-embedded loopback"],
    ["64:ff9b::a9fe:a9fe", "NAT64-embedded link-local"],
    ["::127.0.0.1", "not global unicast"],
    ["2001:db8::1", "documentation"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "IETF protocol assignment (Teredo"],
    ["2002:7f00:1::1", "6to4"],
    ["fec0::1", "site-local"],
    ["not-an-ip", "not an IP address"],
  ];
  for (const [address, reason] of blocked) {
    it(`${address} (${reason})`, () => expect(blockedReason(address)).toContain(reason));
  }
});

describe("blockedReason allows public addresses", () => {
  for (const address of ["93.184.215.14", "8.8.8.8", "172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0", "169.253.1.1", "2606:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808"]) {
    it(address, () => expect(blockedReason(address)).toBeUndefined());
  }
});

describe("ipv6Bytes", () => {
  it("expands ::, embedded IPv4 and full forms alike", () => {
    expect(ipv6Bytes("::1")).toEqual([...Array(15).fill(0), 1]);
    expect(ipv6Bytes("::ffff:127.0.0.1")).toEqual(ipv6Bytes("0:0:0:0:0:ffff:7f00:0001"));
    expect(ipv6Bytes("fe80::1:2")).toEqual([0xfe, 0x80, ...Array(10).fill(0), 0, 1, 0, 2]);
  });
});

describe("allowed address ranges (OURO_INGEST_ALLOWED_HOSTS entries)", () => {
  const within = (entries: string[], address: string) => inAddressRanges(address, entries.map(parseAddressRange));

  it("matches a single IPv4 address and nothing beside it", () => {
    expect(within(["10.0.0.5"], "10.0.0.5")).toBe(true);
    expect(within(["10.0.0.5"], "10.0.0.4")).toBe(false);
    expect(within(["10.0.0.5"], "10.0.0.6")).toBe(false);
    expect(within(["127.0.0.2/32"], "127.0.0.2")).toBe(true);
    expect(within(["127.0.0.2/32"], "127.0.0.1")).toBe(false);
  });

  it("matches an IPv4 range up to both edges and not one address past them", () => {
    expect(within(["10.20.0.0/16"], "10.20.0.0")).toBe(true);
    expect(within(["10.20.0.0/16"], "10.20.255.255")).toBe(true);
    expect(within(["10.20.0.0/16"], "10.19.255.255")).toBe(false);
    expect(within(["10.20.0.0/16"], "10.21.0.0")).toBe(false);
    expect(within(["172.16.0.0/12"], "172.31.255.255")).toBe(true);
    expect(within(["172.16.0.0/12"], "172.32.0.0")).toBe(false);
    expect(within(["192.168.1.128/25"], "192.168.1.127")).toBe(false);
    expect(within(["192.168.1.128/25"], "192.168.1.128")).toBe(true);
  });

  it("matches the IPv4-mapped IPv6 spellings of an allowed IPv4 address, and an IPv4 address inside a mapped range", () => {
    expect(within(["10.20.0.0/16"], "::ffff:10.20.3.4")).toBe(true);
    expect(within(["10.20.0.0/16"], "::ffff:a14:304")).toBe(true);
    expect(within(["10.20.0.0/16"], "[::ffff:10.20.3.4]")).toBe(true);
    expect(within(["10.20.0.0/16"], "::ffff:10.21.0.0")).toBe(false);
    expect(within(["::ffff:10.0.0.0/104"], "10.255.0.1")).toBe(true);
    expect(within(["::ffff:10.0.0.0/104"], "11.0.0.1")).toBe(false);
  });

  it("does not match other IPv6 forms that merely embed the IPv4 address (IPv4-compatible, NAT64)", () => {
    expect(within(["10.0.0.5"], "::10.0.0.5")).toBe(false);
    expect(within(["10.0.0.5"], "64:ff9b::10.0.0.5")).toBe(false);
  });

  it("matches IPv6 ranges up to their edges, zone ids ignored", () => {
    const ula = ["fd12:3456:789a::/48"];
    expect(within(ula, "fd12:3456:789a::")).toBe(true);
    expect(within(ula, "fd12:3456:789a:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(within(ula, "fd12:3456:7899:ffff:ffff:ffff:ffff:ffff")).toBe(false);
    expect(within(ula, "fd12:3456:789b::")).toBe(false);
    expect(within(["fe80::/64"], "fe80::1%eth0")).toBe(true);
    expect(within(["::1"], "::1")).toBe(true);
    expect(within(["::1"], "::2")).toBe(false);
    expect(within(["::1"], "127.0.0.1")).toBe(false);
  });

  it("matches against any of several entries, and nothing with none", () => {
    expect(within(["10.0.0.5", "fd00:1::/32"], "fd00:1:2::3")).toBe(true);
    expect(within([], "10.0.0.5")).toBe(false);
    expect(within(["10.0.0.5"], "not-an-ip")).toBe(false);
  });

  const malformed: Array<[entry: string, says: RegExp]> = [
    ["data.internal", /not an IPv4 or IPv6 address/],
    ["10.0.0", /not an IPv4 or IPv6 address/],
    ["010.0.0.1", /not an IPv4 or IPv6 address/],
    ["[::1]", /not an IPv4 or IPv6 address/],
    ["10.0.0.0/33", /prefix \/33; an IPv4 prefix is 0 to 32/],
    ["fd00::/129", /prefix \/129; an IPv6 prefix is 0 to 128/],
    ["10.0.0.0/", /prefix \/; an IPv4 prefix/],
    ["10.0.0.0/-8", /prefix \/-8/],
    ["10.0.0.0/8/8", /more than one \//],
    ["fe80::1%eth0", /zone id/],
    ["10.20.1.0/16", /bits set past the \/16 prefix/],
    ["fd12::1/16", /bits set past the \/16 prefix/],
    ["0.0.0.0/0", /covers the cloud metadata address 169\.254\.169\.254/],
    ["169.254.0.0/16", /covers the cloud metadata address 169\.254\.169\.254/],
    ["169.254.169.254", /covers the cloud metadata address 169\.254\.169\.254/],
    ["::ffff:169.254.169.254", /covers the cloud metadata address 169\.254\.169\.254/],
    ["::/0", /covers the cloud metadata address/],
    ["fd00:ec2::/32", /covers the cloud metadata address fd00:ec2::254/],
  ];
  for (const [entry, says] of malformed) {
    it(`refuses the entry ${entry}`, () => expect(() => parseAddressRange(entry)).toThrow(says));
  }
});
