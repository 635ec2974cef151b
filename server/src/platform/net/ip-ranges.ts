import net from "node:net";

/**
 * Which addresses a server-side download may not reach unless private addresses are allowed,
 * or the address is in a range the operator allowed (AddressRange, below) (MLflow's webhook
 * SSRF, cloud metadata at 169.254.169.254). Judged on the address actually
 * connected to, never on the host name, so every spelling of an address (2130706433,
 * 0x7f.1, ::ffff:127.0.0.1) meets the same rule.
 *
 * IPv4 follows the IANA special-purpose registry. IPv6 is an allow-list: only global unicast
 * (2000::/3) minus its special blocks passes, plus forms that embed an IPv4 address (mapped,
 * NAT64), which are judged by that IPv4 address.
 */

type Range = [bytes: number[], prefix: number, label: string];

const IPV4_BLOCKED: Range[] = [
  [[0, 0, 0, 0], 8, "unspecified (\"this network\"; 0.0.0.0 reaches this machine)"],
  [[10, 0, 0, 0], 8, "private"],
  [[100, 64, 0, 0], 10, "carrier-grade NAT (shared)"],
  [[127, 0, 0, 0], 8, "loopback"],
  [[169, 254, 0, 0], 16, "link-local (where cloud metadata services live)"],
  [[172, 16, 0, 0], 12, "private"],
  [[192, 0, 0, 0], 24, "IETF protocol assignment"],
  [[192, 0, 2, 0], 24, "documentation"],
  [[192, 88, 99, 0], 24, "6to4 relay"],
  [[192, 168, 0, 0], 16, "private"],
  [[198, 18, 0, 0], 15, "benchmarking"],
  [[198, 51, 100, 0], 24, "documentation"],
  [[203, 0, 113, 0], 24, "documentation"],
  [[224, 0, 0, 0], 4, "multicast"],
  [[240, 0, 0, 0], 4, "reserved (or broadcast)"],
];

const IPV6_BLOCKED_INSIDE_GLOBAL: Range[] = [
  [[0x20, 0x01, 0x00, 0x00], 23, "IETF protocol assignment (Teredo, ORCHID, ...)"],
  [[0x20, 0x01, 0x0d, 0xb8], 32, "documentation"],
  [[0x20, 0x02], 16, "6to4 (deprecated, embeds an IPv4 address)"],
  [[0x3f, 0xff], 16, "documentation"],
];

/** Why `address` may not be connected to, or undefined for an ordinary public address. */
export function blockedReason(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, ""); // brackets, zone id
  const family = net.isIP(bare);
  if (family === 4) return ipv4Reason(ipv4Bytes(bare));
  if (family === 6) return ipv6Reason(ipv6Bytes(bare));
  return "not an IP address";
}

function ipv4Reason(bytes: number[]): string | undefined {
  for (const [base, prefix, label] of IPV4_BLOCKED) if (matches(bytes, base, prefix)) return label;
  return undefined;
}

function ipv6Reason(bytes: number[]): string | undefined {
  const allZeroUpTo = (n: number) => bytes.slice(0, n).every((b) => b === 0);
  if (allZeroUpTo(15) && bytes[15] === 0) return "unspecified (::)";
  if (allZeroUpTo(15) && bytes[15] === 1) return "loopback (::1)";
  // ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d.
  if (allZeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) {
    const inner = ipv4Reason(bytes.slice(12));
    return inner ? `IPv4-mapped ${inner}` : undefined;
  }
  // 64:ff9b::a.b.c.d is the well-known NAT64 prefix: a gateway connects to a.b.c.d.
  if (matches(bytes, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) {
    const inner = ipv4Reason(bytes.slice(12));
    return inner ? `NAT64-embedded ${inner}` : undefined;
  }
  if ((bytes[0]! & 0xe0) !== 0x20) {
    if (bytes[0] === 0xff) return "multicast";
    if ((bytes[0]! & 0xfe) === 0xfc) return "unique local (private)";
    if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return "link-local";
    if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0xc0) return "site-local (deprecated, private)";
    return "not global unicast (IPv4-compatible, discard or reserved)";
  }
  for (const [base, prefix, label] of IPV6_BLOCKED_INSIDE_GLOBAL) if (matches(bytes, base, prefix)) return label;
  return undefined;
}

function matches(bytes: number[], base: number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((bytes[i] ?? 0) & mask) !== ((base[i] ?? 0) & mask)) return false;
  }
  return true;
}

function ipv4Bytes(address: string): number[] {
  return address.split(".").map(Number);
}

/** 16 bytes of an IPv6 address already validated by net.isIP (handles "::" and a dotted tail). */
export function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = ipv4Bytes(dotted[1]!);
    text = text.slice(0, dotted.index) + `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill("0"), ...tailGroups].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * An address or CIDR range an operator lets downloads reach although it is not public (an
 * internal data server). Kept as 16 bytes with IPv4 written as ::ffff:a.b.c.d, so "10.0.0.5"
 * and "::ffff:10.0.0.5", the same machine, meet the same entry.
 */
export interface AddressRange {
  bytes: number[];
  prefix: number;
  /** The entry as the operator wrote it, for messages. */
  text: string;
}

/**
 * Cloud metadata services hand out the machine's credentials: no allowed range may cover
 * them, so a broad entry (10.0.0.0/8 is fine, 0.0.0.0/0 or 169.254.0.0/16 is not) cannot
 * open them by accident.
 */
const METADATA_ADDRESSES = ["169.254.169.254", "fd00:ec2::254", "fd20:ce::254", "100.100.100.200"];

/**
 * What an allowed range never opens, checked on each address connected to: IPv4 link-local
 * (169.254.0.0/16, where most clouds serve metadata) in any spelling (plain, IPv4-mapped,
 * NAT64), and the metadata addresses clouds put elsewhere. Undefined for anything else.
 */
export function metadataReason(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = net.isIP(bare);
  if (!family) return undefined;
  const bytes = addressBytes(bare);
  const mapped = matches(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96);
  const nat64 = matches(bytes, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96);
  if ((mapped || nat64) && matches(bytes.slice(12), [169, 254], 16)) return "link-local, where cloud metadata services live";
  if (METADATA_ADDRESSES.some((m) => matches(bytes, addressBytes(m), 128))) return "a cloud metadata address";
  return undefined;
}

/**
 * Parses "10.0.0.5", "10.20.0.0/16", "fd12:3456::/48" or "::ffff:10.0.0.0/120". Throws an
 * Error saying what is wrong with the entry (the caller names the setting).
 */
export function parseAddressRange(entry: string): AddressRange {
  const text = entry.trim();
  const [address = "", prefixText, ...extra] = text.split("/");
  if (extra.length > 0) throw new Error("has more than one /");
  if (address.includes("%")) throw new Error("has a zone id (%...), which a range cannot have");
  const family = net.isIP(address);
  if (!family) throw new Error("is not an IPv4 or IPv6 address (host names are not accepted: give the address they resolve to)");
  const width = family === 4 ? 32 : 128;
  let prefix = width;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > width) throw new Error(`has prefix /${prefixText}; an IPv${family} prefix is 0 to ${width}`);
    prefix = Number(prefixText);
  }
  const bytes = addressBytes(address);
  const fullPrefix = prefix + (family === 4 ? 96 : 0);
  if (hasBitsPast(bytes, fullPrefix)) {
    throw new Error(`has address bits set past the /${prefix} prefix; write the first address of the range`);
  }
  const range = { bytes, prefix: fullPrefix, text };
  const metadata = METADATA_ADDRESSES.find((m) => inAddressRanges(m, [range]));
  if (metadata) throw new Error(`covers the cloud metadata address ${metadata}, which may never be allowed this way`);
  return range;
}

/** Whether `address` (either family, brackets or zone id tolerated) lies in one of `ranges`. */
export function inAddressRanges(address: string, ranges: readonly AddressRange[]): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!net.isIP(bare)) return false;
  const bytes = addressBytes(bare);
  return ranges.some((range) => matches(bytes, range.bytes, range.prefix));
}

/** 16 bytes; IPv4 as its IPv4-mapped IPv6 form. */
function addressBytes(address: string): number[] {
  return net.isIP(address) === 4 ? [...Array<number>(10).fill(0), 0xff, 0xff, ...ipv4Bytes(address)] : ipv6Bytes(address);
}

function hasBitsPast(bytes: number[], prefix: number): boolean {
  for (let bit = prefix; bit < 128; bit++) if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) return true;
  return false;
}
