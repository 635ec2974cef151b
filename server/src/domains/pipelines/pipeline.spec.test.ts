import { describe, expect, it } from "vitest";
import { OuroError } from "../../platform/errors";
import { canonicalJson, resolveRefs, validateSpec, validateTriggers } from "./pipeline.spec";

const step = (id: string, kind: string, params: Record<string, unknown>, after?: string[]) => ({ id, kind, params, ...(after ? { after } : {}) });
const train = step("train", "train", { datasetVersionId: "${ingest.versionId}", target: "y", task: "binary" });
const ingest = step("ingest", "ingest", { dataset: "d", path: "/data/d.csv" });

function failure(fn: () => unknown): OuroError {
  try {
    fn();
  } catch (err) {
    return err as OuroError;
  }
  throw new Error("expected an error");
}

describe("pipeline spec", () => {
  it("orders steps by their references and explicit dependencies", () => {
    const { order, deps } = validateSpec({ steps: [step("gate", "gate", { metric: "accuracy", modelVersionId: "${reg.modelVersionId}", threshold: 0.9 }), step("reg", "register", { runId: "${train.runId}", model: "m" }), train, ingest] });
    expect(order).toEqual(["ingest", "train", "reg", "gate"]);
    expect([...deps.get("gate")!]).toEqual(["reg"]);
  });

  it("names the path of what is wrong", () => {
    const cases: [unknown, string, RegExp][] = [
      [{ steps: [step("a", "teleport", {})] }, "spec.steps[0].kind", /unknown step kind "teleport"/],
      [{ steps: [ingest, step("train", "train", { datasetVersionId: "${ingest.versionId}", task: "binary" })] }, "spec.steps[1].params.target", /required for a train step/],
      [{ steps: [step("train", "train", { datasetVersionId: "${ingset.versionId}", target: "y", task: "binary" })] }, "spec.steps[0].params.datasetVersionId", /unknown step "ingset"/],
      [{ steps: [ingest, step("train", "train", { datasetVersionId: "${ingest.runId}", target: "y", task: "binary" })] }, "spec.steps[1].params.datasetVersionId", /outputs versionId, datasetId, rows/],
      [{ steps: [ingest, ingest] }, "spec.steps[1].id", /used twice/],
      [{ steps: [step("a", "ingest", { dataset: "d" })] }, "spec.steps[0].params", /exactly one of path, url, uploadId/],
      [{ steps: [step("g", "gate", { metric: "vibes", metrics: {}, threshold: 1 })] }, "spec.steps[0].params.metric", /unknown metric "vibes"/],
      [{ steps: [step("a", "ingest", { dataset: "d", path: "p", colour: "red" })] }, "spec.steps[0].params.colour", /not a parameter/],
      [{ steps: [] }, "spec.steps", /1 to 50 steps/],
      [
        {
          steps: [
            step("a", "fitRecipe", { recipeId: "${b.recipeId}", versionId: "v" }),
            step("b", "fitRecipe", { recipeId: "${a.recipeId}", versionId: "v" }),
            step("c", "fitRecipe", { recipeId: "r", versionId: "v" }),
          ],
        },
        "spec.steps",
        /a, b form a cycle/,
      ],
      [{ steps: [step("a", "fitRecipe", { recipeId: "r", versionId: "v" }, ["a"])] }, "spec.steps[0]", /depends on itself/],
    ];
    for (const [spec, path, message] of cases) {
      const err = failure(() => validateSpec(spec));
      expect(err.code, JSON.stringify(spec)).toBe("BAD_USER_INPUT");
      expect(err.details?.path).toBe(path);
      expect(err.message).toMatch(message);
    }
  });

  it("resolves references to values, keeping types for whole-string references", () => {
    const scope = { params: { v: "abc" }, train: { runId: "r1", metrics: { f1: 0.9 } } };
    expect(resolveRefs({ a: "${train.runId}", b: "${train.metrics}", c: "run ${train.runId} on ${params.v}", d: ["${train.metrics.f1}"] }, scope, "x")).toEqual({
      a: "r1",
      b: { f1: 0.9 },
      c: "run r1 on abc",
      d: [0.9],
    });
    expect(() => resolveRefs({ a: "${params.missing}" }, scope, "steps.t.params")).toThrow(/steps.t.params.a: \$\{params.missing\} has no value/);
  });

  it("checks triggers", () => {
    expect(validateTriggers(undefined)).toEqual([{ kind: "manual" }]);
    expect(validateTriggers([{ kind: "cron", schedule: "0 * * * *" }, { kind: "webhook" }])).toHaveLength(2);
    expect(failure(() => validateTriggers([{ kind: "cron", schedule: "0 25 * * *" }])).message).toMatch(/triggers\[0\].schedule: hour: 25/);
    expect(failure(() => validateTriggers([{ kind: "smoke-signal" }])).details?.path).toBe("triggers[0].kind");
  });

  it("hashes objects the same whatever their key order", () => {
    expect(canonicalJson({ b: 1, a: { y: [1, { d: 1, c: 2 }], x: null } })).toBe(canonicalJson({ a: { x: null, y: [1, { c: 2, d: 1 }] }, b: 1 }));
  });
});
