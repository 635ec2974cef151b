import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

export const MONITOR_STATUSES = ["ok", "potential_drift", "detected", "no_data"] as const;
export type MonitorStatus = (typeof MONITOR_STATUSES)[number];

/** One evaluated window. `seq` is the monitorUpdates cursor (writers of a monitor take turns). */
@Entity("monitor_results")
export class MonitorResultEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint" }) seq: string;
  @Column("uuid") monitorId: string;
  @Column("uuid") projectId: string;
  @Column("text") windowKey: string;
  @Column("timestamptz", { nullable: true }) windowStart: Date | null;
  @Column("timestamptz", { nullable: true }) windowEnd: Date | null;
  @Column("bigint", { nullable: true }) firstSeq: string | null;
  @Column("bigint", { nullable: true }) lastSeq: string | null;
  @Column("integer") predictions: number;
  @Column("text") status: MonitorStatus;
  @Column("double precision", { nullable: true }) driftScore: number | null;
  @Column("jsonb", { default: {} }) details: Record<string, unknown>;
  @Column("timestamptz", { default: () => "now()" }) evaluatedAt: Date;
}
