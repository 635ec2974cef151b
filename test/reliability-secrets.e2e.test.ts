import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startRun, startTestOuro, type TestOuro } from "./helpers/ouro";

// RELIABILITY.md case 12: a forced 500 puts no token in the logs or the answer; and (the
// Jupyter Referer leak) a token in the URL is never accepted, so clients never put one there.

describe("tokens around failures", () => {
  let t: TestOuro;
  let projectId: string;
  let runId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-secrets" });
    projectId = await createProject(t, "secrets");
    runId = await startRun(t, projectId);
  });
  afterAll(() => t?.stop());

  it("a forced internal error over GraphQL and over REST answers 500/INTERNAL with a request id, and neither the answer nor the logs hold the token", async () => {
    const created = await t.gql(`mutation { createApiToken(input: { name: "secret-holder" }) { token } }`);
    const token: string = created.data.createApiToken.token;
    const [artifact] = await t.app.db.query(
      "INSERT INTO artifacts (project_id, run_id, name, kind, sha256, byte_size, content_type) VALUES ($1, $2, 'x.json', 'export', $3, '2', 'application/json') RETURNING id",
      [projectId, runId, (await t.app.artifacts.put([Buffer.from("{}")])).sha256],
    );
    // Break what the resolvers and the download need, so they fail in a way nobody translates.
    await t.app.db.query("ALTER TABLE params RENAME TO params_gone");
    await t.app.db.query("ALTER TABLE artifacts RENAME COLUMN sha256 TO sha256_gone");
    try {
      const gql = await fetch(t.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `query($r: ID!) { run(id: $r) { params { key } } }`, variables: { r: runId } }),
      });
      const gqlText = await gql.text();
      const gqlBody = JSON.parse(gqlText);
      expect(gqlBody.errors[0]).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL" } });

      const rest = await fetch(`${t.url.replace("/graphql", "")}/v1/artifacts/${artifact.id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(rest.status).toBe(500);
      const restText = await rest.text();
      expect(JSON.parse(restText).errors[0].extensions).toMatchObject({ code: "INTERNAL", requestId: expect.stringMatching(/.{8,}/) });

      for (const text of [gqlText, restText, JSON.stringify([...gql.headers, ...rest.headers])]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(token.slice(5, 25)); // not even a part of it
        expect(text).not.toMatch(/params_gone|sha256_gone|SELECT|at \w+ \(/);
      }
      const logs = t.logs.join("\n");
      // The failures were logged in full, under their request ids...
      expect(logs).toContain(gqlBody.errors[0].extensions.requestId);
      expect(logs).toContain(JSON.parse(restText).errors[0].extensions.requestId);
      expect(logs).toMatch(/relation \\"params\\" does not exist/);
      expect(logs).toMatch(/sha256 does not exist/);
      // ...without the token.
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(token.slice(5, 25));
    } finally {
      await t.app.db.query("ALTER TABLE params_gone RENAME TO params");
      await t.app.db.query("ALTER TABLE artifacts RENAME COLUMN sha256_gone TO sha256");
    }
  });

  it("a token in the URL (query string) is not accepted on any route, so it never has to be there", async () => {
    const base = t.url.replace("/graphql", "");
    for (const param of ["token", "access_token", "authorization"]) {
      const q = `${param}=${encodeURIComponent(t.adminToken)}`;
      const get = await fetch(`${t.url}?query=${encodeURIComponent("{ viewer { id } }")}&${q}`, { headers: { "apollo-require-preflight": "1" } });
      expect(get.status, param).toBe(401);
      const post = await fetch(`${t.url}?${q}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ viewer { id } }" }) });
      expect(post.status, param).toBe(401);
      expect((await fetch(`${base}/metrics?${q}`)).status, param).toBe(401);
    }
  });
});
