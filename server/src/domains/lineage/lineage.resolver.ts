import { Arg, Ctx, Field, ID, ObjectType, Query, Resolver } from "type-graphql";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { requireRowAccess } from "../projects/project.service";
import { lineageGraph, nodeKindOf } from "./lineage.service";

@ObjectType("LineageNode")
class LineageNodeType {
  @Field(() => ID) id: string;
  @Field(() => String, { description: "datasetVersion, recipe, run, modelVersion, featureSet or pipelineRun" }) kind: string;
  @Field(() => String) label: string;
  @Field(() => Date) createdAt: Date;
}

@ObjectType("LineageEdge")
class LineageEdgeType {
  @Field(() => ID) from: string;
  @Field(() => ID) to: string;
  @Field(() => String, { description: "derived, produced, fitted, trainedOn, preprocessed, registered, source, materialized, computes; and produced, from a pipeline run to what its steps made" }) relation: string;
}

@ObjectType("Lineage")
class LineageType {
  @Field(() => [LineageNodeType]) nodes: LineageNodeType[];
  @Field(() => [LineageEdgeType]) edges: LineageEdgeType[];
  @Field(() => Boolean, { description: "More than 500 nodes: the graph was cut." }) truncated: boolean;
}

@Resolver()
export class LineageResolver {
  @Query(() => LineageType, { description: "Everything upstream and downstream of a dataset version, recipe, run, model version, feature set or pipeline run." })
  async lineage(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<LineageType> {
    const found = /^[0-9a-f-]{36}$/i.test(id) ? await nodeKindOf(ctx.app.db, id) : null;
    const start = await requireRowAccess(ctx.app.db, viewerOf(ctx), found, "object", id, "viewer");
    return lineageGraph(ctx.app.db, start);
  }
}
