import { Arg, Args, ArgsType, Ctx, Field, ID, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import { checkFirst } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar, streamPosition } from "../../platform/graphql/scalars";
import { oneByOne } from "../../platform/live";
import { requireRole } from "../projects/project.service";
import { AuditEventEntity } from "./audit-event.entity";
import { auditFeed, listAudit } from "./audit.service";
import { AuditEventType } from "./audit.type";

@ArgsType()
class AuditEventsArgs {
  @Field(() => ID) projectId: string;
  @Field(() => CursorScalar, { nullable: true }) after?: string;
}

const asType = (e: AuditEventEntity): AuditEventType => ({ ...e, cursor: e.seq });

@Resolver()
export class AuditResolver {
  @Query(() => [AuditEventType], { description: "The audit trail in order; page with `after` = the last cursor." })
  async auditTrail(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
    @Arg("first", () => Int, { nullable: true }) first?: number,
  ): Promise<AuditEventType[]> {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    return (await listAudit(ctx.app.db, projectId, streamPosition(after), checkFirst(first))).map(asType);
  }

  @Subscription(() => AuditEventType, {
    description: "Audit events after `after` (from the start if omitted), then live.",
    subscribe: async ({ args, context }) => {
      const { projectId, after } = args as AuditEventsArgs;
      const ctx = context as Context;
      await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
      return oneByOne(ctx.app.live.follow(auditFeed(ctx.app.db, projectId), streamPosition(after)));
    },
  })
  auditEvents(@Root() event: AuditEventEntity, @Args(() => AuditEventsArgs) _args: AuditEventsArgs): AuditEventType {
    return asType(event);
  }
}
