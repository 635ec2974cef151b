import { createReadStream } from "node:fs";
import path from "node:path";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Config } from "../../platform/config";
import { badInput } from "../../platform/errors";
import { runInSubprocess } from "../../platform/subprocess";
import { withTempDir } from "../../platform/tmp";
import type { TaskContext, TaskHandlers } from "../../platform/tasks";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { latestVersion, onVersionCreated, registerVersion, versionArtifact } from "../datasets/dataset.service";
import type { Converted } from "../datasets/ingest.work";
import { RecipeEntity } from "../recipes/recipe.entity";
import { fittedOf } from "../recipes/recipe.service";
import { FeatureSetEntity } from "./feature-set.entity";
import { BUILD_TRAINING_SET, MATERIALIZE_FEATURE_SET, markMaterialized, onNewVersion, upsertOnline } from "./feature-set.service";
import type { Materialized, TrainingSetPart } from "./features.work";

const WORK = path.join(__dirname, "features.work.ts");

export interface MaterializePayload {
  featureSetId: string;
  /** The source version to compute from; the feature set's pinned or latest one if omitted. */
  sourceVersionId?: string | null;
}

export interface TrainingSetPayload {
  spineVersionId: string;
  spineTime: string;
  featureSetIds: string[];
  outputDatasetId: string;
}

export function featureTasks(store: ArtifactStore, config: Config): TaskHandlers {
  onVersionCreated((tx, version) => onNewVersion(tx, version, config.worker.maxAttempts));

  const withTmp = <T>(prefix: string, fn: (dir: string) => Promise<T>) => withTempDir(config.dataDir, prefix, fn);
  const fileOf = async (ctx: TaskContext<unknown>, version: DatasetVersionEntity) => store.localPath((await versionArtifact(ctx.db, version)).sha256);

  const materialize = async (ctx: TaskContext<MaterializePayload>) => {
    const fs = await ctx.db.getRepository(FeatureSetEntity).findOneByOrFail({ id: ctx.payload.featureSetId, projectId: ctx.projectId });
    const versionId = ctx.payload.sourceVersionId ?? fs.sourceVersionId;
    const source = versionId
      ? await ctx.db.getRepository(DatasetVersionEntity).findOneBy({ id: versionId, projectId: ctx.projectId })
      : await latestVersion(ctx.db, fs.sourceDatasetId!);
    if (!source) throw badInput("the source dataset has no version to materialize from");
    const recipe = fs.recipeId ? await ctx.db.getRepository(RecipeEntity).findOneByOrFail({ id: fs.recipeId }) : null;
    const fitted = recipe ? fittedOf(recipe) : null;
    return withTmp("features-", async (dir) => {
      await ctx.progress(0.1, `computing features from version ${source.version}`);
      const offlineOut = path.join(dir, "offline.parquet");
      const latestOut = path.join(dir, "latest.ndjson");
      const spec = { entityKeys: fs.entityKeys, timestampColumn: fs.timestampColumn, features: fs.features };
      const m = await runInSubprocess<unknown, Materialized>(WORK, "materialize", { file: await fileOf(ctx, source), fitted, spec, offlineOut, latestOut }, { signal: ctx.signal });
      await ctx.progress(0.6, `storing ${m.rowCount} rows offline`);
      const blob = await store.put(createReadStream(offlineOut));
      const { version } = await registerVersion(ctx.db, {
        projectId: ctx.projectId,
        datasetId: fs.offlineDatasetId!,
        sha256: blob.sha256,
        byteSize: blob.byteSize,
        schema: m.schema,
        rowCount: m.rowCount,
        source: { kind: "featureSet", featureSetId: fs.id, sourceVersionId: source.id },
        tags: [],
        parentVersionIds: [source.id],
        recipeId: fs.recipeId,
      });
      await ctx.progress(0.8, `writing ${m.entities} entities online`);
      const online = await upsertOnline(ctx.db, fs.id, latestOut);
      await markMaterialized(ctx.db, fs.id, version.id, m.features);
      return { offlineVersionId: version.id, rows: m.rowCount, entities: online };
    });
  };

  const trainingSet = async (ctx: TaskContext<TrainingSetPayload>) => {
    const spine = await ctx.db.getRepository(DatasetVersionEntity).findOneByOrFail({ id: ctx.payload.spineVersionId, projectId: ctx.projectId });
    const parts: TrainingSetPart[] = [];
    const parents = [spine.id];
    for (const id of ctx.payload.featureSetIds) {
      const fs = await ctx.db.getRepository(FeatureSetEntity).findOneByOrFail({ id, projectId: ctx.projectId });
      if (!fs.materializedVersionId) throw badInput(`feature set ${fs.name} is not materialized yet`);
      const offline = await ctx.db.getRepository(DatasetVersionEntity).findOneByOrFail({ id: fs.materializedVersionId });
      parents.push(offline.id);
      parts.push({ name: fs.name, file: await fileOf(ctx, offline), spec: { entityKeys: fs.entityKeys, timestampColumn: fs.timestampColumn, features: fs.features } });
    }
    return withTmp("trainingset-", async (dir) => {
      const out = path.join(dir, "training.parquet");
      await ctx.progress(0.1, `joining ${parts.length} feature set(s) as of each spine row`);
      const c = await runInSubprocess<unknown, Converted>(WORK, "buildTrainingSet", { spineFile: await fileOf(ctx, spine), spineTime: ctx.payload.spineTime, parts, out }, { signal: ctx.signal });
      const blob = await store.put(createReadStream(out));
      const { version } = await registerVersion(ctx.db, {
        projectId: ctx.projectId,
        datasetId: ctx.payload.outputDatasetId,
        sha256: blob.sha256,
        byteSize: blob.byteSize,
        schema: c.schema,
        rowCount: c.rowCount,
        source: { kind: "trainingSet", spineVersionId: spine.id, featureSetIds: ctx.payload.featureSetIds },
        tags: [],
        parentVersionIds: parents,
      });
      return { versionId: version.id, rows: c.rowCount };
    });
  };

  return { [MATERIALIZE_FEATURE_SET]: materialize as TaskHandlers[string], [BUILD_TRAINING_SET]: trainingSet as TaskHandlers[string] };
}
