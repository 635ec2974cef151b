import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The public record of a piece of long work. The queue library's own row (queueJobId) is an
 * internal detail; `attempt` fences writes so a stale worker cannot overwrite a newer try.
 */
@Entity("jobs")
export class JobEntity extends ProjectScopedEntity {
  @Column("text") kind: string;
  @Column("text", { default: "queued" }) status: JobStatus;
  @Column("real", { default: 0 }) progress: number;
  @Column("jsonb", { default: {} }) payload: Record<string, unknown>;
  @Column("jsonb", { nullable: true }) result: Record<string, unknown> | null;
  @Column("text", { nullable: true }) error: string | null;
  @Column("integer", { default: 0 }) attempt: number;
  @Column("integer") maxAttempts: number;
  @Column("text", { nullable: true }) idempotencyKey: string | null;
  @Column("text", { nullable: true }) queueJobId: string | null;
  @Column("text", { nullable: true }) workerId: string | null;
  /** Bumped on every change: the cursor of jobUpdated. */
  @Column("integer", { default: 1 }) revision: number;
  @Column("uuid", { nullable: true }) createdById: string | null;
  @Column("timestamptz", { nullable: true }) startedAt: Date | null;
  @Column("timestamptz", { nullable: true }) finishedAt: Date | null;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}
