import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("experiments")
export class ExperimentEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("text", { default: "" }) description: string;
}
