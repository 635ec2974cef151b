import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar, streamPosition } from "../../platform/graphql/scalars";
import { oneByOne } from "../../platform/live";
import { requireRole } from "../projects/project.service";
import type { AlertEventEntity } from "./alert-event.entity";
import type { AlertRuleEntity } from "./alert-rule.entity";
import type { AlertEntity } from "./alert.entity";
import { accessAlert, acknowledgeAlert, alertEventsFeed, alertHistory, alertsQuery, createAlertRule, rulesOf, setAlertRuleEnabled } from "./alert.service";
import { accessMonitor } from "./monitor.service";
import {
  AlertConnection, type AlertDirectionEnum, AlertEventType, AlertRuleCreatedType, AlertRuleType, AlertStateEnum, AlertType, CreateAlertRuleInput, MonitorType, type SeverityEnum,
} from "./monitor.type";

const asRule = (r: AlertRuleEntity): AlertRuleType => ({
  id: r.id, projectId: r.projectId, monitorId: r.monitorId, name: r.name, metric: r.metric, direction: r.direction as AlertDirectionEnum, threshold: r.threshold,
  forWindows: r.forWindows, severity: r.severity as SeverityEnum, webhookUrl: r.webhookUrl, enabled: r.enabled, createdAt: r.createdAt,
});
const asAlert = (a: AlertEntity): AlertType => ({ ...a, state: a.state as AlertStateEnum });
const asEvent = (e: AlertEventEntity): AlertEventType => ({ cursor: e.seq, alertId: e.alertId, ruleId: e.ruleId, state: e.state as AlertStateEnum, actorId: e.actorId, data: e.data, at: e.at });

@ArgsType()
class AlertEventsArgs {
  @Field(() => ID) projectId: string;
  @Field(() => CursorScalar, { nullable: true, description: "Resume after this event's cursor; from the first event if omitted." }) after?: string;
}

@Resolver(() => MonitorType)
export class MonitorAlertRulesResolver {
  @FieldResolver(() => [AlertRuleType])
  async alertRules(@Root() m: MonitorType, @Ctx() ctx: Context): Promise<AlertRuleType[]> {
    return (await rulesOf(ctx.app.db, m.id)).map(asRule);
  }
}

@Resolver(() => AlertType)
export class AlertResolver {
  @Query(() => AlertConnection, { description: "A project's alerts, newest first, optionally in one state." })
  async alerts(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("state", () => AlertStateEnum, { nullable: true }) state?: AlertStateEnum | null,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    const qb = await alertsQuery(ctx.app.db, viewerOf(ctx), projectId, state ?? null);
    const page = await paginate(qb, "a", first, after);
    return { ...page, nodes: page.nodes.map(asAlert), edges: page.edges.map((e) => ({ ...e, node: asAlert(e.node) })) };
  }

  @FieldResolver(() => [AlertEventType], { description: "This alert's state changes, oldest first; follow alertEvents after the last one's cursor for what comes next." })
  async history(@Root() alert: AlertType, @Ctx() ctx: Context): Promise<AlertEventType[]> {
    return (await alertHistory(ctx.app.db, alert.id)).map(asEvent);
  }

  @Query(() => AlertType, { description: "One alert (its project's viewers); NOT_FOUND for other projects' alerts." })
  async alert(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<AlertType> {
    return asAlert(await accessAlert(ctx.app.db, viewerOf(ctx), id));
  }

  @Mutation(() => AlertRuleCreatedType, { description: "An alert rule on a monitor's results (editor). The generated webhook secret is in the answer, once." })
  async createAlertRule(@Arg("input", () => CreateAlertRuleInput) input: CreateAlertRuleInput, @Ctx() ctx: Context): Promise<AlertRuleCreatedType> {
    const viewer = viewerOf(ctx);
    const monitor = await accessMonitor(ctx.app.db, viewer, input.monitorId, "editor");
    const { rule, webhookSecret } = await createAlertRule(ctx.app.db, viewer, monitor, input, ctx.app.config, ctx.requestId);
    return { rule: asRule(rule), webhookSecret };
  }

  @Mutation(() => AlertRuleType, { description: "Turns an alert rule off (its open alert resolves) or on (editor)." })
  async setAlertRuleEnabled(@Arg("ruleId", () => ID) ruleId: string, @Arg("enabled", () => Boolean) enabled: boolean, @Ctx() ctx: Context): Promise<AlertRuleType> {
    return asRule(await setAlertRuleEnabled(ctx.app.db, viewerOf(ctx), ruleId, enabled, ctx.app.config, ctx.requestId));
  }

  @Mutation(() => AlertType, { description: "firing → acknowledged (editor); it resolves by itself when its condition clears." })
  async acknowledgeAlert(@Arg("alertId", () => ID) alertId: string, @Ctx() ctx: Context): Promise<AlertType> {
    return asAlert(await acknowledgeAlert(ctx.app.db, viewerOf(ctx), alertId, ctx.app.config, ctx.requestId));
  }

  @Subscription(() => AlertEventType, {
    description: "Every alert state change in a project: first those after `after`, then live.",
    subscribe: async ({ args, context }) => {
      const { projectId, after } = args as AlertEventsArgs;
      const ctx = context as Context;
      await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
      return oneByOne(ctx.app.live.follow(alertEventsFeed(ctx.app.db, projectId), streamPosition(after)));
    },
  })
  alertEvents(@Root() e: AlertEventEntity, @Args(() => AlertEventsArgs) _args: AlertEventsArgs): AlertEventType {
    return asEvent(e);
  }
}
