import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricsFeed } from "../server/src/domains/runs/metric.service";
import { createProject, points, startRun, startTestOuro, type TestOuro } from "./helpers/ouro";

const LOG = `mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted } }`;

describe("live feeds", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "live" });
    projectId = await createProject(t, "live");
  });
  afterAll(() => t?.stop());

  it("a consumer that stops reading while 60,000 points arrive falls back to the database and still gets each once, in order", async () => {
    const runId = await startRun(t, projectId);
    const follower = t.app.live.follow(metricsFeed(t.app.db, runId), 0n);
    await t.gql(LOG, { r: runId, p: points("warmup", 0, 10) });
    const first = await follower.next(); // live now
    expect(first.value?.length).toBe(10);
    for (let b = 0; b < 6; b++) await t.gql(LOG, { r: runId, p: points("loss", b * 10_000, 10_000) }); // not read meanwhile
    const seen: number[] = [];
    while (seen.length < 60_000) {
      const r = await follower.next();
      for (const p of r.value!) seen.push(p.step);
    }
    await follower.return!();
    expect(seen).toEqual(Array.from({ length: 60_000 }, (_, i) => i));
    expect(t.app.live.topicCount).toBe(0); // the shared tail went away with its last follower
  }, 60_000);

  it("many followers of one topic share a single reader", async () => {
    const runId = await startRun(t, projectId);
    const followers = Array.from({ length: 50 }, () => t.app.live.follow(metricsFeed(t.app.db, runId), 0n));
    const firstBatches = followers.map((f) => f.next());
    await t.gql(LOG, { r: runId, p: points("acc", 0, 100) });
    const got = await Promise.all(firstBatches);
    expect(got.every((g) => g.value?.length === 100)).toBe(true);
    expect(t.app.live.topicCount).toBe(1);
    await Promise.all(followers.map((f) => f.return!()));
    expect(t.app.live.topicCount).toBe(0);
  });

  it("a consumer that unsubscribes while waiting is released at once", async () => {
    const runId = await startRun(t, projectId);
    const follower = t.app.live.follow(metricsFeed(t.app.db, runId), 0n);
    const pending = follower.next();
    await new Promise((r) => setTimeout(r, 100));
    await follower.return!();
    expect((await pending).done).toBe(true);
  });

  it("a follower with a cursor beyond the end does not hold back the others", async () => {
    const runId = await startRun(t, projectId);
    const ahead = t.app.live.follow(metricsFeed(t.app.db, runId), 999_999_999n);
    const aheadNext = ahead.next();
    await new Promise((r) => setTimeout(r, 100));
    const normal = t.app.live.follow(metricsFeed(t.app.db, runId), 0n);
    const got = normal.next();
    await new Promise((r) => setTimeout(r, 100));
    await t.gql(LOG, { r: runId, p: points("x", 0, 3) });
    expect((await got).value?.map((p: { step: number }) => p.step)).toEqual([0, 1, 2]);
    await normal.return!();
    await ahead.return!();
    expect((await aheadNext).done).toBe(true);
  });
});
