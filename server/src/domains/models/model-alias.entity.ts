import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

/** Alias history: the row with `replacedAt` null is the alias now. */
@Entity("model_aliases")
export class ModelAliasEntity extends ProjectScopedEntity {
  @Column("uuid") modelId: string;
  @Column("text") alias: string;
  @Column("uuid") modelVersionId: string;
  @Column("uuid", { nullable: true }) setById: string | null;
  @Column("timestamptz", { nullable: true }) replacedAt: Date | null;
}
