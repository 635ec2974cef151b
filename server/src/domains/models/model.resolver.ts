import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { ArtifactStore } from "../../platform/artifacts";
import { badInput, OuroError } from "../../platform/errors";
import { paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar } from "../../platform/graphql/scalars";
import { requireRole } from "../projects/project.service";
import type { ArtifactEntity } from "../runs/artifact.entity";
import { ModelVersionEntity } from "./model-version.entity";
import { ModelEntity } from "./model.entity";
import { accessModel, accessModelVersion, aliasHistory, registerModelVersion, setModelAlias, type ModelArtifact } from "./model.service";
import { ModelAliasType, ModelConnection, ModelType, ModelVersionType, RegisterModelVersionInput } from "./model.type";

const MAX_MODEL_ARTIFACT = 512 * 1024 * 1024;

/** Reads a model artifact as JSON data. Nothing in it is ever executed or unpickled. */
export async function readModelArtifact(store: ArtifactStore, a: ArtifactEntity): Promise<ModelArtifact> {
  if (Number(a.byteSize) > MAX_MODEL_ARTIFACT) throw badInput("model artifact too large");
  const chunks: Buffer[] = [];
  for await (const c of await store.open(a.sha256)) chunks.push(c as Buffer);
  const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ModelArtifact;
  if (parsed?.format !== 1 || typeof parsed.signature !== "object") throw new OuroError("CONFLICT", `artifact ${a.id} is not an Ouro model`);
  return parsed;
}

@Resolver(() => ModelType)
export class ModelResolver {
  @Query(() => ModelType)
  async model(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<ModelType> {
    return accessModel(ctx.app.db, viewerOf(ctx), id);
  }

  @Query(() => ModelConnection)
  async models(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    return paginate(ctx.app.db.getRepository(ModelEntity).createQueryBuilder("m").where("m.project_id = :projectId", { projectId }), "m", first, after);
  }

  @Query(() => ModelVersionType)
  async modelVersion(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<ModelVersionType> {
    return accessModelVersion(ctx.app.db, viewerOf(ctx), id);
  }

  @Query(() => [ModelVersionType], { description: "Several versions side by side (metrics, signature, card)." })
  async compareModelVersions(@Arg("ids", () => [ID]) ids: string[], @Ctx() ctx: Context): Promise<ModelVersionType[]> {
    if (ids.length < 1 || ids.length > 20) throw badInput("compare 1 to 20 versions");
    return Promise.all(ids.map((id) => accessModelVersion(ctx.app.db, viewerOf(ctx), id)));
  }

  @FieldResolver(() => [ModelVersionType], { description: "Newest first." })
  async versions(@Root() model: ModelType, @Ctx() ctx: Context): Promise<ModelVersionType[]> {
    return ctx.app.db.getRepository(ModelVersionEntity).find({ where: { modelId: model.id }, order: { version: "DESC" }, take: 100 });
  }

  @FieldResolver(() => [ModelAliasType], { description: "Who held which alias when, newest first." })
  async aliases(@Root() model: ModelType, @Ctx() ctx: Context, @Arg("current", () => Boolean, { defaultValue: true }) current: boolean): Promise<ModelAliasType[]> {
    const all = await aliasHistory(ctx.app.db, model.id);
    return current ? all.filter((a) => a.replacedAt === null) : all;
  }

  @Mutation(() => ModelVersionType)
  async registerModelVersion(@Arg("input", () => RegisterModelVersionInput) input: RegisterModelVersionInput, @Ctx() ctx: Context): Promise<ModelVersionType> {
    const card = input.card ? Object.fromEntries(Object.entries(input.card).filter(([, v]) => v != null)) : null;
    return registerModelVersion(ctx.app.db, viewerOf(ctx), { runId: input.runId, model: input.model, card }, (a) => readModelArtifact(ctx.app.artifacts, a), ctx.requestId);
  }

  @Mutation(() => ModelAliasType, { description: "Points an alias such as staging or production at a version." })
  async setModelAlias(@Arg("versionId", () => ID) versionId: string, @Arg("alias", () => String) alias: string, @Ctx() ctx: Context): Promise<ModelAliasType> {
    return setModelAlias(ctx.app.db, viewerOf(ctx), versionId, alias, ctx.requestId);
  }
}
