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
  /** Bumped on every graph or traffic change; serving processes reload when it moves. */
  @Column("integer", { default: 1 }) revision: number;
  @Column("uuid", { nullable: true }) createdById: string | null;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}
