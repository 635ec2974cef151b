import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("datasets")
export class DatasetEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("text", { default: "" }) description: string;
}
