import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("models")
export class ModelEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("text", { default: "" }) description: string;
}
