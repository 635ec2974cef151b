import { Column, Entity, PrimaryColumn } from "typeorm";

/** Params are write-once per run, like MLflow: a second different value is an error. */
@Entity("params")
export class ParamEntity {
  @PrimaryColumn("uuid") runId: string;
  @PrimaryColumn("text") key: string;
  @Column("text") value: string;
}
