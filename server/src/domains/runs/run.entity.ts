import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

export const RUN_STATUSES = ["running", "finished", "failed", "killed"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

@Entity("runs")
export class RunEntity extends ProjectScopedEntity {
  @Column("uuid") experimentId: string;
  @Column("text") name: string;
  @Column("text", { default: "running" }) status: RunStatus;
  @Column("timestamptz") startedAt: Date;
  @Column("timestamptz", { nullable: true }) finishedAt: Date | null;
  /** Last sign of life (heartbeat or metrics); the reaper fails runs silent too long. */
  @Column("timestamptz") heartbeatAt: Date;
  @Column("jsonb", { default: {} }) tags: Record<string, string>;
  @Column("text", { nullable: true }) statusReason: string | null;
  @Column("uuid", { nullable: true }) parentRunId: string | null;
  @Column("uuid", { nullable: true }) jobId: string | null;
  @Column("uuid", { nullable: true }) createdById: string | null;
}
