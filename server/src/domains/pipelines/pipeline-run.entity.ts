import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";
import type { PipelineSpec } from "./pipeline.spec";

export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type PipelineRunStatus = (typeof RUN_STATUSES)[number];
export const STEP_STATUSES = ["pending", "running", "succeeded", "failed", "skipped", "cancelled"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

@Entity("pipeline_runs")
export class PipelineRunEntity extends ProjectScopedEntity {
  @Column("uuid") pipelineId: string;
  @Column("text", { default: "queued" }) status: PipelineRunStatus;
  /** What started it: {kind: manual|cron|datasetVersion|alert|webhook, ...}. */
  @Column("jsonb", { default: {} }) trigger: Record<string, unknown>;
  /** The pipeline's spec when the run started. */
  @Column("jsonb", { default: {} }) spec: PipelineSpec;
  @Column("jsonb", { default: {} }) params: Record<string, unknown>;
  /** Ignore the step cache. */
  @Column("boolean", { default: false }) force: boolean;
  @Column("text", { nullable: true }) error: string | null;
  @Column("uuid", { nullable: true }) createdById: string | null;
  @Column("text", { nullable: true }) idempotencyKey: string | null;
  @Column("timestamptz", { nullable: true }) startedAt: Date | null;
  @Column("timestamptz", { nullable: true }) finishedAt: Date | null;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
  /** Bumped on every change: the cursor of pipelineRunUpdated. */
  @Column("bigint") seq: string;
}

@Entity("pipeline_run_steps")
export class PipelineRunStepEntity extends ProjectScopedEntity {
  @Column("uuid") pipelineRunId: string;
  @Column("text") stepId: string;
  @Column("text") kind: string;
  @Column("text", { default: "pending" }) status: StepStatus;
  @Column("integer") position: number;
  @Column("jsonb", { nullable: true }) inputs: Record<string, unknown> | null;
  @Column("text", { nullable: true }) inputHash: string | null;
  @Column("jsonb", { nullable: true }) outputs: Record<string, unknown> | null;
  @Column("uuid", { nullable: true }) jobId: string | null;
  @Column("boolean", { default: false }) cacheHit: boolean;
  @Column("text", { nullable: true }) error: string | null;
  @Column("timestamptz", { nullable: true }) startedAt: Date | null;
  @Column("timestamptz", { nullable: true }) finishedAt: Date | null;
}
