import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";
import type { PipelineSpec, TriggerSpec } from "./pipeline.spec";

@Entity("pipelines")
export class PipelineEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  /** The DAG of typed steps (see pipeline.spec.ts). */
  @Column("jsonb", { default: {} }) spec: PipelineSpec;
  @Column("jsonb", { default: [] }) triggers: TriggerSpec[];
  /** The webhook secret is derived from the instance key and this salt; rotating picks a new salt. */
  @Column("text", { nullable: true }) webhookSecretSalt: string | null;
  /** Whose permissions scheduled, data, alert and webhook runs act with. */
  @Column("uuid", { nullable: true }) createdById: string | null;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}
