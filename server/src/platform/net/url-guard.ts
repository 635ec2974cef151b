import dns from "node:dns";
import net from "node:net";
import { badInput } from "../errors";
import { type AddressRange, blockedReason, inAddressRanges, metadataReason } from "./ip-ranges";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Two narrow seams so tests can drive the production code path without leaving 127.0.0.1
 * (the test machine may reach nothing else, and must not try):
 *  - resolveHost replaces the DNS lookup, so a test can say "public.test is 93.184.215.14";
 *  - connectTo replaces only the address the socket dials *after* that address passed the
 *    check, so the test server on 127.0.0.1 can play the public host.
 * Everything between (the checks, pinning, redirects, limits) is the code production runs.
 */
export interface NetworkSeams {
  resolveHost?: (hostname: string) => Promise<ResolvedAddress[]>;
  connectTo?: (checked: ResolvedAddress) => ResolvedAddress;
}

/** Which non-public addresses a kind of outgoing request may reach (configuration). */
export interface Reach {
  /** Every loopback, private and link-local address. */
  allowPrivate: boolean;
  /** Only these addresses and ranges. */
  allowedHosts: readonly AddressRange[];
}

export interface Hop {
  url: URL;
  /** 0 for the URL the user gave, n for the n-th redirect. */
  index: number;
  /** The URL that redirected here. */
  from?: URL;
}

/**
 * Resolves a hop's host once and checks every address it resolves to (a name that resolves
 * to a public and a private address is refused: which one a client picks is not ours to
 * guess). Returns the address to pin the connection to. `allowed` lets chosen non-public
 * addresses through (an internal data server) while the rest stay refused.
 */
export async function checkHop(
  hop: Hop,
  allowPrivate: boolean,
  seams: NetworkSeams | undefined,
  allowed: readonly AddressRange[] = [],
): Promise<ResolvedAddress> {
  const host = hop.url.hostname.replace(/^\[|\]$/g, "");
  let addresses: ResolvedAddress[];
  const literal = net.isIP(host);
  if (literal) {
    // WHATWG URL parsing already turned 2130706433, 0x7f.1 and 0177.0.0.1 into 127.0.0.1.
    addresses = [{ address: host, family: literal as 4 | 6 }];
  } else {
    try {
      addresses = await (seams?.resolveHost ?? systemResolve)(host);
    } catch {
      throw badInput(`${describe(hop)}: host ${host} cannot be resolved`, { host });
    }
    if (addresses.length === 0) throw badInput(`${describe(hop)}: host ${host} has no address`, { host });
  }
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const reason = blockedReason(address);
      // An allowed range opens private addresses, never metadata (in whatever spelling).
      const listed = inAddressRanges(address, allowed);
      const metadata = listed ? metadataReason(address) : undefined;
      if (reason && (!listed || metadata)) {
        const subject = host === address ? `${address} is` : `${host} resolves to ${address}, which is`;
        const notAllowed = metadata ? `; it is ${metadata}, which an allowed range never opens` : allowed.length > 0 ? " and not among the allowed hosts" : "";
        throw badInput(`${describe(hop)} is refused: ${subject} not a public address (${reason})${notAllowed}`, {
          hop: hop.index,
          address,
        });
      }
    }
  }
  return addresses[0]!;
}

async function systemResolve(host: string): Promise<ResolvedAddress[]> {
  const answers = await dns.promises.lookup(host, { all: true, order: "verbatim" });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/**
 * A `lookup` for the http Agent that answers with the address already checked, whatever the
 * host name: the socket cannot end up anywhere DNS says *now*. Node asks with `all: true`
 * when it may try several addresses (happy eyeballs) and expects a list then.
 */
export function pinnedLookup(checked: ResolvedAddress, seams: NetworkSeams | undefined): net.LookupFunction {
  const { address, family } = seams?.connectTo ? seams.connectTo(checked) : checked;
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** A URL fit for messages and logs: no user name or password, no query values, no fragment. */
export function redactUrl(url: URL | string): string {
  let copy: URL;
  try {
    copy = new URL(url.toString());
  } catch {
    return "(invalid URL)";
  }
  // Signed URLs carry their secret in the query (X-Amz-Signature, sig=, token=).
  return `${copy.protocol}//${copy.host}${copy.pathname}${copy.search ? "?…" : ""}`;
}

function describe(hop: Hop): string {
  if (hop.index === 0 || !hop.from) return `URL ${redactUrl(hop.url)}`;
  return `redirect ${hop.index} (from ${redactUrl(hop.from)} to ${redactUrl(hop.url)})`;
}
