import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

/**
 * Features of entities over time: computed by an optional fitted recipe from a source
 * dataset, kept offline as versions of `offlineDatasetId` and online as the latest values per
 * entity (online_features).
 */
@Entity("feature_sets")
export class FeatureSetEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("text", { array: true, default: "{}" }) entityKeys: string[];
  @Column("text", { nullable: true }) timestampColumn: string | null;
  /** Column names, after the recipe. */
  @Column("jsonb", { default: [] }) features: string[];
  @Column("uuid", { nullable: true }) sourceDatasetId: string | null;
  /** A pinned source version; null means the source dataset's latest. */
  @Column("uuid", { nullable: true }) sourceVersionId: string | null;
  @Column("uuid", { nullable: true }) recipeId: string | null;
  @Column("uuid", { nullable: true }) offlineDatasetId: string | null;
  @Column("uuid", { nullable: true }) materializedVersionId: string | null;
  @Column("timestamptz", { nullable: true }) materializedAt: Date | null;
  @Column("boolean", { default: false }) autoMaterialize: boolean;
}
