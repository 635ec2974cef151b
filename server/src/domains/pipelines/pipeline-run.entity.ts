import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("pipeline_runs")
export class PipelineRunEntity extends ProjectScopedEntity {
  @Column("uuid") pipelineId: string;
  @Column("text", { default: "queued" }) status: string;
  @Column("jsonb", { default: {} }) trigger: Record<string, unknown>;
  @Column("jsonb", { default: {} }) steps: Record<string, unknown>;
  @Column("timestamptz", { nullable: true }) finishedAt: Date | null;
}
