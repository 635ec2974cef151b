import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

@Entity("job_logs")
export class JobLogEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint" }) seq: string;
  @Column("uuid") jobId: string;
  @Column("integer") attempt: number;
  @Column("text") level: string;
  @Column("text") message: string;
  @Column("timestamptz", { default: () => "now()" }) at: Date;
}
