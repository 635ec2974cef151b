import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";
import type { MonitorConfig } from "./monitor.config";

@Entity("monitors")
export class MonitorEntity extends ProjectScopedEntity {
  @Column("text") name: string;
  @Column("uuid", { nullable: true }) deploymentId: string | null;
  /** The kinds it evaluates, comma-separated (config.kinds is the list). */
  @Column("text") kind: string;
  @Column("jsonb", { default: {} }) config: MonitorConfig;
  /** active | paused: the scheduler only enqueues windows of active monitors. */
  @Column("text", { default: "active" }) status: string;
  /** The dataset version whose profile is the drift reference. */
  @Column("uuid", { nullable: true }) referenceVersionId: string | null;
  @Column("uuid", { nullable: true }) createdById: string | null;
}
