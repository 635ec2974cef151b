import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("model_versions")
export class ModelVersionEntity extends ProjectScopedEntity {
  @Column("uuid") modelId: string;
  @Column("integer") version: number;
  @Column("uuid", { nullable: true }) runId: string | null;
  @Column("uuid", { nullable: true }) artifactId: string | null;
  @Column("uuid", { nullable: true }) recipeId: string | null;
  @Column("jsonb", { default: {} }) signature: Record<string, unknown>;
  @Column("jsonb", { default: {} }) metrics: Record<string, number>;
  @Column("jsonb", { default: {} }) card: Record<string, unknown>;
}
