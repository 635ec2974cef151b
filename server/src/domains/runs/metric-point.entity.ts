import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

/**
 * One point of one series. `seq` orders every point of a run in commit order (writers
 * of one run are serialised), which is what subscription cursors resume from.
 */
@Entity("metric_points")
export class MetricPointEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint" }) seq: string;
  @Column("uuid") runId: string;
  @Column("text") key: string;
  @Column("bigint") step: string;
  @Column("double precision") value: number;
  @Column("timestamptz") recordedAt: Date;
}
