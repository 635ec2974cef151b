import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

@Entity("alert_rules")
export class AlertRuleEntity extends ProjectScopedEntity {
  @Column("uuid") monitorId: string;
  @Column("text") name: string;
  /** See alert.rules.ts: status, driftScore, feature:<name>, prediction, performance.<m>, quality.<m>. */
  @Column("text") metric: string;
  @Column("text") direction: "above" | "below";
  @Column("double precision") threshold: number;
  @Column("integer") forWindows: number;
  @Column("text") severity: Severity;
  @Column("text", { nullable: true }) webhookUrl: string | null;
  /** Never sent back to clients after creation. */
  @Column("text", { nullable: true }) webhookSecret: string | null;
  @Column("boolean", { default: true }) enabled: boolean;
  @Column("uuid", { nullable: true }) createdById: string | null;
}
