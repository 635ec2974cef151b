import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";

/**
 * One point of one series. `seq` orders every point of a run in commit order (writers
 * of one run are serialised), which is what subscription cursors resume from.
 */
@Entity("metric_points")
export class MetricPointEntity {
  @PrimaryColumn("uuid") runId: string;
  @PrimaryGeneratedColumn("increment", { type: "bigint" }) seq: string;
  @Column("text") key: string;
  @Column("bigint") step: string;
  @Column("double precision") value: number;
  @Column("timestamptz") recordedAt: Date;
}
