import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { sql, type Db } from "../../platform/db";

/**
 * Webhook secrets. The caller signs each delivery with HMAC-SHA256, so the server needs the
 * secret itself, not a hash of it. Rather than store it (even encrypted), Ouro derives it:
 *
 *   secret = "whsec_" + base64url(HMAC-SHA256(instance key, "pipeline-webhook:" + pipelineId + ":" + salt))
 *
 * Only the salt is stored. The instance key is OURO_SECRET_KEY when set; otherwise a random
 * key generated once and kept in the instance_keys table — which then protects nothing
 * against someone holding the whole database, so set OURO_SECRET_KEY in production (and
 * keep it: changing it invalidates every webhook secret). Rotating a secret = a new salt.
 */
const keys = new WeakMap<Db, Promise<Buffer>>();

async function instanceKey(db: Db, configured: string | null): Promise<Buffer> {
  if (configured) return Buffer.from(configured, "utf8");
  let key = keys.get(db);
  if (!key) {
    key = (async () => {
      await db.query(`INSERT INTO instance_keys (name, value) VALUES ('webhook', $1) ON CONFLICT (name) DO NOTHING`, [randomBytes(32).toString("hex")]);
      const [row] = await sql<{ value: string }>(db, `SELECT value FROM instance_keys WHERE name = 'webhook'`);
      return Buffer.from(row.value, "hex");
    })();
    keys.set(db, key);
    key.catch(() => keys.delete(db));
  }
  return key;
}

export const newSalt = () => randomBytes(16).toString("hex");

export async function webhookSecret(db: Db, configuredKey: string | null, pipelineId: string, salt: string): Promise<string> {
  const key = await instanceKey(db, configuredKey);
  return "whsec_" + createHmac("sha256", key).update(`pipeline-webhook:${pipelineId}:${salt}`).digest("base64url");
}

/** What a sender puts in X-Ouro-Signature: sha256=<hex of HMAC(secret, timestamp + "." + body)>. */
export function signDelivery(secret: string, timestamp: string, body: Buffer | string): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** Constant-time comparison of a received signature with the expected one. */
export function signatureMatches(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}
