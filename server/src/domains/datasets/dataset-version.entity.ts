import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

export interface ColumnSchema {
  name: string;
  type: string;
  nullable: boolean;
}

/** Immutable: new content makes a new version; identical content finds the existing one. */
@Entity("dataset_versions")
export class DatasetVersionEntity extends ProjectScopedEntity {
  @Column("uuid") datasetId: string;
  @Column("integer") version: number;
  @Column("text") contentHash: string;
  @Column("jsonb", { default: [] }) schema: ColumnSchema[];
  @Column("bigint", { default: 0 }) rowCount: string;
  @Column("bigint", { default: 0 }) byteSize: string;
  @Column("jsonb", { default: {} }) source: Record<string, unknown>;
  @Column("text", { array: true, default: "{}" }) tags: string[];
  @Column("jsonb", { nullable: true }) profile: Record<string, unknown> | null;
  @Column("uuid", { nullable: true }) artifactId: string | null;
  @Column("uuid", { array: true, default: "{}" }) parentVersionIds: string[];
  @Column("uuid", { nullable: true }) recipeId: string | null;
}
