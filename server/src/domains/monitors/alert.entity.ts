import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

export const ALERT_STATES = ["firing", "acknowledged", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

@Entity("alerts")
export class AlertEntity extends ProjectScopedEntity {
  @Column("uuid", { nullable: true }) monitorId: string | null;
  @Column("uuid", { nullable: true }) ruleId: string | null;
  @Column("text") state: AlertState;
  @Column("text", { default: "warning" }) severity: string;
  @Column("text") message: string;
  @Column("jsonb", { default: {} }) details: Record<string, unknown>;
  @Column("timestamptz", { nullable: true }) acknowledgedAt: Date | null;
  @Column("uuid", { nullable: true }) acknowledgedById: string | null;
  @Column("timestamptz", { nullable: true }) resolvedAt: Date | null;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}
