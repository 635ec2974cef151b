import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType } from "type-graphql";
import { CursorScalar } from "../../platform/graphql/scalars";

@ObjectType("AuditEvent")
export class AuditEventType {
  @Field(() => CursorScalar) cursor: string;
  @Field(() => ID, { nullable: true }) projectId: string | null;
  @Field(() => ID, { nullable: true, description: "Who did it; null for Ouro itself." }) actorId: string | null;
  @Field(() => String, { description: "e.g. run.start, job.create, project.create" }) action: string;
  @Field(() => String) targetType: string;
  @Field(() => String, { nullable: true }) targetId: string | null;
  @Field(() => GraphQLJSONObject) data: Record<string, unknown>;
  @Field(() => String, { nullable: true }) requestId: string | null;
  @Field(() => Date) at: Date;
}
