import { describe, expect, it } from "vitest";
import { blockedReason, ipv6Bytes } from "./ip-ranges";

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
