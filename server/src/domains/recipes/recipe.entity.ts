import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

/** Ordered transform steps; `fitted` holds what fitting learned (means, categories, ...). */
@Entity("recipes")
export class RecipeEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("jsonb", { default: [] }) steps: unknown[];
  @Column("jsonb", { nullable: true }) fitted: Record<string, unknown> | null;
  @Column("uuid", { nullable: true }) fittedOnVersionId: string | null;
  /** New versions of this dataset are applied automatically ... */
  @Column("uuid", { nullable: true }) autoApplySourceId: string | null;
  /** ... into new versions of this one. */
  @Column("uuid", { nullable: true }) autoApplyOutputId: string | null;
}
