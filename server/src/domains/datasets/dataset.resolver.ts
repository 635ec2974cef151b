import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { badInput } from "../../platform/errors";
import { mapPage, paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar } from "../../platform/graphql/scalars";
import { recordAudit } from "../audit/audit.service";
import { enqueueJob } from "../jobs/job.service";
import { JobType } from "../jobs/job.type";
import { requireRole } from "../projects/project.service";
import { DatasetVersionEntity } from "./dataset-version.entity";
import { DatasetEntity } from "./dataset.entity";
import { accessDataset, accessVersion, ensureDataset, latestVersion, versionArtifact } from "./dataset.service";
import { INGEST_DATASET, PROFILE_DATASET, type IngestSource } from "./dataset.tasks";
import { DatasetConnection, DatasetType, DatasetVersionConnection, DatasetVersionType, DataPreviewType, ExpectationInput, IngestDatasetInput, MAX_INFER_SCHEMA_ROWS, type IngestSourceInput, type FormatInput } from "./dataset.type";
import { previewParquet } from "./preview";
import type { Expectation } from "./quality.work";
import { type FormatSpec, validateFormatSpec } from "./sources/formats";

const asVersion = (v: DatasetVersionEntity): DatasetVersionType => ({ ...v, rowCount: Number(v.rowCount), byteSize: Number(v.byteSize) });

function toSource(s: IngestSourceInput): IngestSource {
  const given = [s.uploadId, s.path, s.url, s.sql].filter((v) => v != null);
  if (given.length !== 1) throw badInput("source: give exactly one of uploadId, path, url, sql", { field: "source" });
  if (s.uploadId) return { kind: "upload", artifactId: s.uploadId };
  if (s.path) return { kind: "path", path: s.path };
  if (s.url) {
    let u: URL;
    try {
      u = new URL(s.url);
    } catch {
      throw badInput("source.url is not a valid URL", { field: "source.url" });
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw badInput("source.url must be http or https", { field: "source.url" });
    return { kind: "url", url: u.toString() };
  }
  const q = s.sql!;
  if (q.query.length > 100_000) throw badInput("source.sql.query is longer than 100000 characters");
  return { kind: "sql", source: q.source, query: q.query };
}

/**
 * The reader's spec for a client's format, checked here so that a bad option is refused by
 * the mutation rather than discovered by the job.
 */
function toFormat(f: FormatInput | null | undefined): FormatSpec | null {
  if (!f) return null;
  if (f.delimiter != null && [...f.delimiter].length !== 1) throw badInput("format.delimiter must be one character", { field: "format.delimiter" });
  if (f.nullValues && f.nullValues.length > 100) throw badInput("format.nullValues: at most 100 markers");
  if (f.inferSchemaRows != null && (f.inferSchemaRows < 0 || f.inferSchemaRows > MAX_INFER_SCHEMA_ROWS)) {
    throw badInput(`format.inferSchemaRows must be from 0 to ${MAX_INFER_SCHEMA_ROWS}`, { field: "format.inferSchemaRows" });
  }
  const spec: FormatSpec = {
    format: f.format,
    ...(f.delimiter != null ? { delimiter: f.delimiter } : {}),
    ...(f.header != null ? { header: f.header } : {}),
    ...(f.nullValues ? { nullValues: f.nullValues } : {}),
    ...(f.encoding ? { encoding: f.encoding } : {}),
    ...(f.inferSchemaRows != null ? { inferSchemaRows: f.inferSchemaRows } : {}),
  };
  validateFormatSpec(spec);
  return spec;
}

export function toExpectation(e: ExpectationInput, i: number): Expectation {
  const need = (v: unknown, field: string) => {
    if (v == null) throw badInput(`expectation ${i} (${e.kind}) needs ${field}`, { index: i, field });
  };
  if (e.kind !== "rowCount") need(e.column, "column");
  const column = e.column!;
  switch (e.kind) {
    case "notNull":
    case "unique":
      return { kind: e.kind, column };
    case "range":
      if (e.min == null && e.max == null) need(null, "min or max");
      return { kind: "range", column, min: e.min, max: e.max };
    case "allowedSet":
      need(e.values, "values");
      if (e.values!.length > 10_000) throw badInput(`expectation ${i}: at most 10000 allowed values`);
      return { kind: "allowedSet", column, values: e.values! };
    case "regex":
      need(e.pattern, "pattern");
      if (e.pattern!.length > 1000) throw badInput(`expectation ${i}: pattern longer than 1000 characters`);
      return { kind: "regex", column, pattern: e.pattern! };
    case "rowCount":
      return { kind: "rowCount", min: e.min, max: e.max };
    default:
      throw badInput(`expectation ${i}: unknown kind`);
  }
}

@Resolver(() => DatasetVersionType)
export class DatasetResolver {
  @Query(() => DatasetConnection)
  async datasets(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(DatasetEntity).createQueryBuilder("d").where("d.project_id = :projectId", { projectId });
    return paginate(qb, "d", first, after);
  }

  @Query(() => DatasetType)
  async dataset(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<DatasetType> {
    return accessDataset(ctx.app.db, viewerOf(ctx), id);
  }

  @Query(() => DatasetVersionType)
  async datasetVersion(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<DatasetVersionType> {
    return asVersion(await accessVersion(ctx.app.db, viewerOf(ctx), id));
  }

  @Query(() => DatasetVersionConnection, { description: "Versions of a dataset, newest first." })
  async datasetVersions(
    @Arg("datasetId", () => ID) datasetId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await accessDataset(ctx.app.db, viewerOf(ctx), datasetId);
    const qb = ctx.app.db.getRepository(DatasetVersionEntity).createQueryBuilder("v").where("v.dataset_id = :datasetId", { datasetId });
    const page = await paginate(qb, "v", first, after);
    return mapPage(page, asVersion);
  }

  @Query(() => DatasetVersionType, { nullable: true })
  async latestDatasetVersion(@Arg("datasetId", () => ID) datasetId: string, @Ctx() ctx: Context): Promise<DatasetVersionType | null> {
    await accessDataset(ctx.app.db, viewerOf(ctx), datasetId);
    const v = await latestVersion(ctx.app.db, datasetId);
    return v ? asVersion(v) : null;
  }

  @FieldResolver(() => DataPreviewType, { description: "A page of rows (at most 500)." })
  async preview(
    @Root() version: DatasetVersionType,
    @Ctx() ctx: Context,
    @Arg("offset", () => Int, { defaultValue: 0 }) offset: number,
    @Arg("limit", () => Int, { defaultValue: 50 }) limit: number,
  ): Promise<DataPreviewType> {
    if (offset < 0 || limit < 1 || limit > 500) throw badInput("preview: offset ≥ 0 and limit from 1 to 500");
    const artifact = await versionArtifact(ctx.app.db, version as unknown as DatasetVersionEntity);
    const file = await ctx.app.artifacts.localPath(artifact.sha256);
    return { ...previewParquet(file, offset, limit), totalRows: version.rowCount };
  }

  @Mutation(() => JobType, { description: "Reads data from an upload, a server path, a URL or SQL into a new dataset version (Parquet)." })
  async ingestDataset(@Arg("input", () => IngestDatasetInput) input: IngestDatasetInput, @Ctx() ctx: Context): Promise<JobType> {
    const viewer = viewerOf(ctx);
    await requireRole(ctx.app.db, viewer, input.projectId, "editor");
    const source = toSource(input.source);
    const format = toFormat(input.format);
    const tags = input.tags ?? [];
    if (tags.length > 50 || tags.some((t) => t.length > 100)) throw badInput("tags: at most 50, each up to 100 characters");
    const job = await ctx.app.db.transaction(async (tx) => {
      const dataset = await ensureDataset(tx, input.projectId, input.dataset);
      const { job, created } = await enqueueJob(tx, {
        projectId: input.projectId,
        kind: INGEST_DATASET,
        payload: { datasetId: dataset.id, source, format, tags },
        idempotencyKey: input.idempotencyKey ?? null,
        createdById: viewer.userId,
        maxAttempts: ctx.app.config.worker.maxAttempts,
      });
      if (created) await recordAudit(tx, { projectId: input.projectId, actorId: viewer.userId, action: "dataset.ingest", targetType: "dataset", targetId: dataset.id, data: { jobId: job.id, source: source.kind }, requestId: ctx.requestId });
      return job;
    });
    return Object.assign(new JobType(), job);
  }

  @Mutation(() => JobType, { description: "Computes per-column statistics (the drift reference later) and checks data-quality expectations." })
  async profileDataset(
    @Arg("versionId", () => ID) versionId: string,
    @Ctx() ctx: Context,
    @Arg("expectations", () => [ExpectationInput], { nullable: true }) expectations?: ExpectationInput[] | null,
  ): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const version = await accessVersion(ctx.app.db, viewer, versionId, "editor");
    const checks = (expectations ?? []).map(toExpectation);
    if (checks.length > 200) throw badInput("at most 200 expectations");
    const job = await ctx.app.db.transaction(async (tx) => {
      const { job } = await enqueueJob(tx, {
        projectId: version.projectId,
        kind: PROFILE_DATASET,
        payload: { versionId, expectations: checks },
        createdById: viewer.userId,
        maxAttempts: ctx.app.config.worker.maxAttempts,
      });
      return job;
    });
    return Object.assign(new JobType(), job);
  }
}

@Resolver(() => DatasetType)
export class DatasetFieldsResolver {
  @FieldResolver(() => DatasetVersionType, { nullable: true })
  async latestVersion(@Root() dataset: DatasetType, @Ctx() ctx: Context): Promise<DatasetVersionType | null> {
    const v = await latestVersion(ctx.app.db, dataset.id);
    return v ? asVersion(v) : null;
  }

  @FieldResolver(() => DatasetVersionConnection, { description: "Versions, newest first." })
  async versions(
    @Root() dataset: DatasetType,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    const qb = ctx.app.db.getRepository(DatasetVersionEntity).createQueryBuilder("v").where("v.dataset_id = :id", { id: dataset.id });
    const page = await paginate(qb, "v", first, after);
    return mapPage(page, asVersion);
  }
}
