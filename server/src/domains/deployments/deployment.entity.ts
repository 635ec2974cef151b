import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("deployments")
export class DeploymentEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("text", { default: "pending" }) status: string;
  /** The serving graph: recipe, enrichment, model nodes, post-processing. */
  @Column("jsonb", { default: {} }) graph: Record<string, unknown>;
  /** Weights per model version, shadow targets, sticky keys. */
  @Column("jsonb", { default: {} }) traffic: Record<string, unknown>;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}
