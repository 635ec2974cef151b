import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import type { AlertState } from "./alert.entity";

/** Append-only log of alert state changes; `seq` is the alertEvents cursor. */
@Entity("alert_events")
export class AlertEventEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint" }) seq: string;
  @Column("uuid") projectId: string;
  @Column("uuid") alertId: string;
  @Column("uuid", { nullable: true }) ruleId: string | null;
  @Column("text") state: AlertState;
  @Column("uuid", { nullable: true }) actorId: string | null;
  @Column("jsonb", { default: {} }) data: Record<string, unknown>;
  @Column("timestamptz", { default: () => "now()" }) at: Date;
}
