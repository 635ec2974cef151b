import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";
import type { LabelSchema } from "./label-schema";

export type LabellingSource =
  | { kind: "datasetVersion"; versionId: string }
  | { kind: "predictionLog"; deploymentId: string; from: string | null; to: string | null; role: "primary" | "shadow" };

export type Selection =
  | { strategy: "random"; seed: number }
  | { strategy: "leastConfident"; seed: number; modelVersionId: string | null }
  | { strategy: "disagreement"; seed: number; fromTaskId: string | null; modelVersionId: string | null; compareColumn: string | null };

export type TaskStatus = "building" | "ready" | "failed";

/** A queue of rows to label, built by a job from a dataset version or a prediction log. */
@Entity("labelling_tasks")
export class LabellingTaskEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("jsonb") source: LabellingSource;
  @Column("uuid", { nullable: true }) sourceVersionId: string | null;
  @Column("uuid", { nullable: true }) deploymentId: string | null;
  @Column("jsonb") labelSchema: LabelSchema;
  @Column("text", { default: "label" }) labelColumn: string;
  @Column("jsonb") selection: Selection;
  @Column("integer") size: number;
  @Column("integer") labelsPerRow: number;
  /** Who may label; empty means every editor of the project. */
  @Column("uuid", { array: true, default: "{}" }) assigneeIds: string[];
  @Column("text", { default: "building" }) status: TaskStatus;
  @Column("text", { nullable: true }) error: string | null;
  @Column("uuid", { nullable: true }) buildJobId: string | null;
  /** labellingProgress's cursor: bumped on every label and status change. */
  @Column("bigint", { default: 1 }) revision: string;
  @Column("uuid", { nullable: true }) createdById: string | null;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}
