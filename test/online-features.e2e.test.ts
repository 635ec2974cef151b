import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../server/src/platform/auth";
import { featureAccessCache } from "../server/src/domains/features/online-access";
import { createProject, newUserToken, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

// The online store over REST (GET/POST /v1/feature-sets/{id}/online) beside the GraphQL field.
describe("online features over REST", () => {
  let t: TestOuro;
  let replica: TestOuro; // a second server on the same database, as a serving replica
  let projectId: string;
  let featureSetId: string;
  let base: string;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ouro-online-"));
    t = await startTestOuro({ label: "online", worker: true, env: { OURO_INGEST_ROOTS: dir, OURO_JOB_MAX_ATTEMPTS: "1" } });
    replica = await startTestOuro({ databaseUrl: t.databaseUrl, env: { OURO_INGEST_ROOTS: dir } });
    base = t.url.replace(/\/graphql$/, "");
    projectId = await createProject(t, "online");
    await writeFile(path.join(dir, "spend.csv"), "user,ts,spend_7d,plan\nu1,2024-01-01T00:00:00,10,free\nu1,2024-01-05T00:00:00,50,pro\nu2,2024-01-03T00:00:00,7,free\n");
    const ingest = await t.gql(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "spend", source: { path: path.join(dir, "spend.csv") } } });
    expect((await waitForJob(t, ingest.data.ingestDataset.id)).status).toBe("succeeded");
    const [spend] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'spend'", [projectId]);
    const fs = await t.gql(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id } }`, {
      i: { projectId, name: "spend", sourceDatasetId: spend.id, entityKeys: ["user"], timestampColumn: "ts" },
    });
    featureSetId = fs.data.createFeatureSet.id;
    const m = await t.gql(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: featureSetId });
    expect((await waitForJob(t, m.data.materializeFeatureSet.id)).status).toBe("succeeded");
  }, 120_000);
  afterAll(async () => {
    await replica?.stop();
    await t?.stop();
  });

  const get = (id: string, keys: string[], token: string | null = t.adminToken, at = base) =>
    fetch(`${at}/v1/feature-sets/${encodeURIComponent(id)}/online?${keys.map((k) => `key=${encodeURIComponent(k)}`).join("&")}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const post = (id: string, body: string, token: string | null = t.adminToken) =>
    fetch(`${base}/v1/feature-sets/${id}/online`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
  const codeOf = async (res: Response) => ((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code;

  it("answers GET and POST exactly as the GraphQL field does, one row per key in order", async () => {
    const keys = ["u2", "nobody", "u1"];
    const gql = await t.gql(`query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key values eventTime } }`, { f: featureSetId, k: keys });
    const expected = gql.data.onlineFeatures;
    expect(expected.map((r: { values: unknown }) => r.values)).toEqual([{ spend_7d: 7, plan: "free" }, null, { spend_7d: 50, plan: "pro" }]);
    const viaGet = await get(featureSetId, keys);
    expect(viaGet.status).toBe(200);
    expect(await viaGet.json()).toEqual({ featureSetId, rows: expected });
    const viaPost = await post(featureSetId, JSON.stringify({ keys }));
    expect(viaPost.status).toBe(200);
    expect(await viaPost.json()).toEqual({ featureSetId, rows: expected });
  });

  it("refuses missing or bad tokens, outsiders (as if the set did not exist) and malformed keys", async () => {
    // No token, and a token that was never issued.
    expect((await get(featureSetId, ["u1"], null)).status).toBe(401);
    const forged = await get(featureSetId, ["u1"], "ouro_notarealtoken_notarealtoken");
    expect([forged.status, await codeOf(forged)]).toEqual([401, "UNAUTHENTICATED"]);
    // A user of another project gets what a made-up id gets: 404, same message shape.
    const outsider = await newUserToken(t, "outsider@example.com");
    const hidden = await get(featureSetId, ["u1"], outsider);
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as { errors: { message: string }[] }).errors[0].message).toBe(`feature set ${featureSetId} not found`);
    const madeUp = "00000000-0000-0000-0000-000000000000";
    expect((await get(madeUp, ["u1"])).status).toBe(404);
    expect((await get("../../graphql", ["u1"])).status).toBe(404); // not a uuid, nor a path
    const gqlHidden = await t.gql(`query($f: ID!) { onlineFeatures(featureSetId: $f, keys: ["u1"]) { key } }`, { f: featureSetId }, outsider);
    expect(gqlHidden.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    // Keys: none, too many, not strings, a body that is not JSON.
    for (const res of [
      await get(featureSetId, []),
      await get(featureSetId, Array.from({ length: 1001 }, (_, i) => `k${i}`)),
      await post(featureSetId, JSON.stringify({ keys: [1, 2] })),
      await post(featureSetId, JSON.stringify({ keys: "u1", extra: true }).replace('"u1"', "{}")),
      await post(featureSetId, "{not json"),
    ]) {
      expect([res.status, await codeOf(res)]).toEqual([400, "BAD_USER_INPUT"]);
    }
    const gqlTooMany = await t.gql(`query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key } }`, { f: featureSetId, k: Array.from({ length: 1001 }, (_, i) => `k${i}`) });
    expect(gqlTooMany.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("lets a project viewer read, and a revoked token stops at once on every server (cached check included)", async () => {
    const token = await newUserToken(t, "reader@example.com");
    const added = await t.gql(`mutation($p: ID!) { setMembership(email: "reader@example.com", projectId: $p, role: viewer) { role } }`, { p: projectId });
    expect(added.data?.setMembership.role).toBe("viewer");
    // The replica checks access once, then answers from its cache.
    for (let i = 0; i < 3; i++) expect((await get(featureSetId, ["u1"], token, replica.url.replace(/\/graphql$/, ""))).status).toBe(200);
    const [row] = await t.app.db.query("SELECT id, user_id FROM api_tokens WHERE token_hash = $1", [hashToken(token)]);
    const viewer = { tokenId: row.id as string, userId: row.user_id as string, isAdmin: false };
    expect(featureAccessCache(replica.app).has(viewer, featureSetId)).toBe(true);

    // Revoked through the other server: the replica hears it on the bus.
    const revoked = await t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: row.id });
    expect(revoked.data?.revokeApiToken.id).toBe(row.id);
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      status = (await get(featureSetId, ["u1"], token, replica.url.replace(/\/graphql$/, ""))).status;
      if (status === 200) await sleep(100);
    }
    expect(status).toBe(401);
    expect(featureAccessCache(replica.app).has(viewer, featureSetId)).toBe(false);
  });
});
