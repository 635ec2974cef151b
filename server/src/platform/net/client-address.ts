import net from "node:net";

/**
 * The reverse proxies an operator puts in front of Ouro (`OURO_TRUST_PROXY`: addresses and
 * CIDR ranges). Behind one, every request comes from the proxy's address; the caller's own is
 * in X-Forwarded-For, which anyone can write, so it is believed only hop by hop from a
 * trusted peer inwards.
 */
export class TrustedProxies {
  private readonly list = new net.BlockList();

  /** Throws an Error naming the first entry that is not an address or a CIDR range. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = "", prefix, extra] = entry.split("/");
      const family = net.isIP(address);
      const width = family === 4 ? 32 : 128;
      if (!family || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= width))) {
        throw new Error(`"${entry}" is not an IP address or a CIDR range such as 10.0.0.0/8`);
      }
      const type = family === 4 ? "ipv4" : "ipv6";
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  has(address: string): boolean {
    const family = net.isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? "ipv4" : "ipv6");
  }

  /**
   * The caller's address: walking X-Forwarded-For from its right end (the hop nearest to us),
   * each entry is believed while the hop that reported it is a trusted proxy. A peer that is
   * not trusted is the caller, whatever it wrote; a malformed entry stops the walk there.
   */
  clientOf(peer: string | undefined, forwardedFor: string | string[] | undefined): string | undefined {
    if (!peer || !forwardedFor) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",").map(withoutPort);
    let client = peer;
    for (let i = hops.length - 1; i >= 0 && this.has(client); i--) {
      if (!net.isIP(hops[i]!)) break;
      client = hops[i]!;
    }
    return client;
  }
}

/** Some proxies write the caller's port too: "1.2.3.4:5678", "[2001:db8::1]:5678". */
function withoutPort(hop: string): string {
  const text = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(text);
  return v4 ? v4[1]! : text;
}

/** The caller of an HTTP or WebSocket request, through the trusted proxies if any. */
export function clientAddress(req: { socket: { remoteAddress?: string }; headers: Record<string, string | string[] | undefined> }, proxies: TrustedProxies | null): string | undefined {
  const peer = req.socket.remoteAddress;
  return proxies ? proxies.clientOf(peer, req.headers["x-forwarded-for"]) : peer;
}
