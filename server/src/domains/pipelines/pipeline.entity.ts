import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("pipelines")
export class PipelineEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  /** The DAG of typed steps. */
  @Column("jsonb", { default: {} }) spec: Record<string, unknown>;
  @Column("jsonb", { default: [] }) triggers: unknown[];
  @Column("text", { nullable: true }) webhookSecretHash: string | null;
}
