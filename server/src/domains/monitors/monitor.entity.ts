import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

@Entity("monitors")
export class MonitorEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("uuid", { nullable: true }) deploymentId: string | null;
  @Column("text") kind: string;
  @Column("jsonb", { default: {} }) config: Record<string, unknown>;
  @Column("text", { default: "active" }) status: string;
}
