// A model version made ready to answer: its network loaded, its fitted recipe, and the
// input contract callers must meet. Loaded once per process and shared by every endpoint
// and route that names the version.
import type { ArtifactStore } from "../../../platform/artifacts";
import type { Db } from "../../../platform/db";
import { OuroError } from "../../../platform/errors";
import { readModelArtifact } from "../../models/model.resolver";
import type { ModelArtifact } from "../../models/model.service";
import { ModelEntity } from "../../models/model.entity";
import { ModelVersionEntity } from "../../models/model-version.entity";
import type { InputField } from "../../recipes/engine/dtypes";
import type { FittedRecipe } from "../../recipes/engine/fitted";
import { RecipeEntity } from "../../recipes/recipe.entity";
import { ArtifactEntity } from "../../runs/artifact.entity";
import { loadModel, type LoadedModel } from "../../models/training/serialize";
import type { ModelSignature } from "../../models/training/saved-model";
import { chooseKernel, type KernelName, type KernelPreference } from "./kernel";

export interface Servable {
  versionId: string;
  projectId: string;
  model: string;
  version: number;
  loaded: LoadedModel;
  /** Raw model outputs for a row-major float32 matrix (see predictMatrix), by `kernel`. */
  score(x: Float32Array, rows: number): Float32Array;
  /** Which kernel scores this version (kernel.ts): the compiled Dense kernel or TensorFlow.js. */
  kernel: KernelName;
  /** Why the compiled kernel is not used; null when it is. */
  kernelFallback: string | null;
  signature: ModelSignature;
  fitted: FittedRecipe | null;
  /** What one request row must carry (the recipe's inputs, or the model's features without a recipe). */
  inputs: InputField[];
  features: string[];
}

/**
 * A model version's artifact (read as data by the registry's reader, never executed) with the
 * fitted recipe its inputs go through, made ready for new rows: the target, and columns the
 * recipe drops before anything reads them (leading drop steps), are optional — the recipe
 * was fitted on data that had them; callers scoring new rows do not. Serving and batch
 * inference both start here.
 */
export async function modelForScoring(db: Db, store: ArtifactStore, versionId: string): Promise<{ version: ModelVersionEntity; content: ModelArtifact; fitted: FittedRecipe | null }> {
  const version = await db.getRepository(ModelVersionEntity).findOneBy({ id: versionId });
  if (!version?.artifactId) throw new OuroError("NOT_FOUND", `model version ${versionId} not found or has no model file`);
  const content = await readModelArtifact(store, await db.getRepository(ArtifactEntity).findOneByOrFail({ id: version.artifactId }));
  let fitted = (content.fitted ?? null) as FittedRecipe | null;
  if (!fitted && content.recipeId) {
    const recipe = await db.getRepository(RecipeEntity).findOneBy({ id: content.recipeId });
    fitted = (recipe?.fitted ?? null) as FittedRecipe | null;
    if (!fitted) throw new OuroError("CONFLICT", `model version ${versionId} needs recipe ${content.recipeId}, which is not fitted`);
  }
  if (!fitted) return { version, content, fitted: null };
  const unused = new Set([content.signature.target]);
  for (const step of fitted.steps) {
    if (step.op !== "drop") break;
    for (const c of (step as { columns: string[] }).columns) unused.add(c);
  }
  const inputSchema = fitted.inputSchema.map((f) => (unused.has(f.name) ? { ...f, optional: true, nullable: true } : f));
  return { version, content, fitted: { ...fitted, inputSchema } };
}

export async function loadServable(db: Db, store: ArtifactStore, versionId: string, kernelPreference: KernelPreference = "auto"): Promise<Servable> {
  const { version, content, fitted } = await modelForScoring(db, store, versionId);
  if (fitted && !fitted.rowApplicable) throw new OuroError("CONFLICT", `model version ${versionId}'s recipe needs whole datasets (groupBy, rolling, forward fill) and cannot serve single rows`);
  const model = await db.getRepository(ModelEntity).findOneByOrFail({ id: version.modelId });
  const loaded = await loadModel(content.saved);
  const signature = loaded.saved.signature;
  const features = signature.features.map((f) => f.name);
  // Callers send the recipe's inputs (never the target), or the model's features without a recipe.
  const inputs: InputField[] = fitted
    ? fitted.inputSchema.filter((f) => f.name !== signature.target)
    : features.map((name) => ({ name, dtype: "float", nullable: false, optional: false }));
  const kernel = chooseKernel(loaded, kernelPreference);
  return { versionId, projectId: version.projectId, model: model.name, version: version.version, loaded, score: kernel.score, kernel: kernel.name, kernelFallback: kernel.fallbackReason, signature, fitted, inputs, features };
}

/**
 * Servables by version id. Concurrent requests for one version share one load; a version
 * that fails to load is remembered briefly, so a broken artifact costs one attempt per
 * interval rather than one per request, and never affects other versions.
 */
export class ServableCache {
  private readonly entries = new Map<string, { value: Promise<Servable>; failedAt?: number; ready?: Servable }>();

  constructor(
    private readonly load: (versionId: string) => Promise<Servable>,
    private readonly retryFailedAfterMs = 5000,
  ) {}

  get(versionId: string): Promise<Servable> {
    const entry = this.entries.get(versionId);
    if (entry && (entry.failedAt === undefined || Date.now() - entry.failedAt < this.retryFailedAfterMs)) return entry.value;
    const value = this.load(versionId);
    const fresh: { value: Promise<Servable>; failedAt?: number; ready?: Servable } = { value };
    this.entries.set(versionId, fresh);
    value.then((s) => (fresh.ready = s)).catch(() => (fresh.failedAt = Date.now()));
    return value;
  }

  /** Frees versions no endpoint names any more. */
  retain(keep: Set<string>): void {
    for (const [id, entry] of this.entries) {
      if (keep.has(id)) continue;
      this.entries.delete(id);
      entry.value.then((s) => s.loaded.dispose()).catch(() => undefined);
    }
  }

  loadedIds(): string[] {
    return [...this.entries.keys()];
  }

  /** The versions loaded and ready now (not those loading or failed). */
  ready(): Servable[] {
    return [...this.entries.values()].flatMap((e) => (e.ready ? [e.ready] : []));
  }
}
