import {
  AcknowledgeAlertDocument,
  AlertEventsDocument,
  AlertsDocument,
  CreateAlertRuleDocument,
  CreateMonitorDocument,
  MonitorDocument,
  MonitorResultsDocument,
  MonitorsDocument,
  MonitorUpdatesDocument,
  RunMonitorNowDocument,
  SetAlertRuleEnabledDocument,
  SetMonitorPausedDocument,
  type AlertState,
  type CreateAlertRuleInput,
  type CreateMonitorInput,
  type MonitorQuery,
} from "../generated/graphql";
import { JobHandle } from "../job-handle";
import { liveStream, type LiveOptions, type LiveStream } from "../live";
import type { Alert, AlertEvent, AlertRule, Monitor, MonitorResult, Page, PageArgs } from "../types";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

export class MonitorsApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /** Watches a deployment's predictions for drift, performance and data quality over windows of predictions or minutes. */
  async create(input: CreateMonitorInput): Promise<Monitor> {
    const { createMonitor } = await this.ctx.http.request(CreateMonitorDocument, { input });
    return createMonitor;
  }

  /** Evaluates the latest window now; the job's result holds the new result's cursor. */
  async runNow(monitorId: string): Promise<JobHandle<{ cursor?: string; [key: string]: unknown }>> {
    const { runMonitorNow } = await this.ctx.http.request(RunMonitorNowDocument, { monitorId });
    return new JobHandle(runMonitorNow, this.jobs);
  }

  /** Pauses scheduled evaluation, or resumes it from now. */
  async setPaused(monitorId: string, paused: boolean): Promise<Monitor> {
    const { setMonitorPaused } = await this.ctx.http.request(SetMonitorPausedDocument, { monitorId, paused }, { retry: true });
    return setMonitorPaused;
  }

  /** A monitor with its latest result and alert rules. */
  async get(id: string): Promise<MonitorQuery["monitor"]> {
    const { monitor } = await this.ctx.http.request(MonitorDocument, { id });
    return monitor;
  }

  async list(projectId: string, page: PageArgs = {}): Promise<Page<Monitor>> {
    const { monitors } = await this.ctx.http.request(MonitorsDocument, { projectId, first: page.first, after: page.after });
    return monitors;
  }

  /** One page of a monitor's results, oldest first. */
  async results(monitorId: string, page: PageArgs = {}): Promise<{ nodes: MonitorResult[]; totalCount: number; endCursor?: string | null; hasNextPage: boolean }> {
    const { monitor } = await this.ctx.http.request(MonitorResultsDocument, { id: monitorId, first: page.first, after: page.after });
    return monitor.results;
  }

  /**
   * Every result of a monitor (per-feature drift, performance, quality) after `after`, then
   * live. Reconnects and resumes from its cursor; never ends by itself.
   */
  updates(monitorId: string, options: LiveOptions = {}): LiveStream<MonitorResult> {
    return liveStream(this.ctx.ws, {
      document: MonitorUpdatesDocument,
      variables: (after) => ({ monitorId, after }),
      extract: ({ monitorUpdates }) => ({ items: [monitorUpdates], cursor: monitorUpdates.cursor }),
    }, options);
  }
}

export class AlertsApi {
  constructor(private readonly ctx: ClientContext) {}

  /**
   * A rule on a monitor's results (e.g. `metric: "driftScore", threshold: 0.2`). With a
   * webhook, the generated signing secret is in this answer only.
   */
  async createRule(input: CreateAlertRuleInput): Promise<{ rule: AlertRule; webhookSecret: string | null }> {
    const { createAlertRule } = await this.ctx.http.request(CreateAlertRuleDocument, { input });
    return { rule: createAlertRule.rule, webhookSecret: createAlertRule.webhookSecret ?? null };
  }

  async setRuleEnabled(ruleId: string, enabled: boolean): Promise<AlertRule> {
    const { setAlertRuleEnabled } = await this.ctx.http.request(SetAlertRuleEnabledDocument, { ruleId, enabled }, { retry: true });
    return setAlertRuleEnabled;
  }

  /** Firing → acknowledged; it resolves by itself when its condition clears. */
  async acknowledge(alertId: string): Promise<Alert> {
    const { acknowledgeAlert } = await this.ctx.http.request(AcknowledgeAlertDocument, { alertId }, { retry: true });
    return acknowledgeAlert;
  }

  async list(projectId: string, filter: PageArgs & { state?: AlertState } = {}): Promise<Page<Alert>> {
    const { alerts } = await this.ctx.http.request(AlertsDocument, { projectId, state: filter.state, first: filter.first, after: filter.after });
    return alerts;
  }

  /** Every alert state change of a project after `after`, then live; resumes from its cursor. */
  events(projectId: string, options: LiveOptions = {}): LiveStream<AlertEvent> {
    return liveStream(this.ctx.ws, {
      document: AlertEventsDocument,
      variables: (after) => ({ projectId, after }),
      extract: ({ alertEvents }) => ({ items: [alertEvents], cursor: alertEvents.cursor }),
    }, options);
  }
}
