import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("feature_sets")
export class FeatureSetEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("text", { array: true, default: "{}" }) entityKeys: string[];
  @Column("text", { nullable: true }) timestampColumn: string | null;
  @Column("jsonb", { default: [] }) features: unknown[];
  @Column("uuid", { nullable: true }) sourceVersionId: string | null;
  @Column("uuid", { nullable: true }) recipeId: string | null;
}
