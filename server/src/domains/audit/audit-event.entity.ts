import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

/** Append-only. `seq` is the auditEvents cursor (writers of one project are serialised). */
@Entity("audit_events")
export class AuditEventEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint" }) seq: string;
  @Column("uuid", { nullable: true }) projectId: string | null;
  @Column("uuid", { nullable: true }) actorId: string | null;
  @Column("text") action: string;
  @Column("text") targetType: string;
  @Column("text", { nullable: true }) targetId: string | null;
  @Column("jsonb", { default: {} }) data: Record<string, unknown>;
  @Column("text", { nullable: true }) requestId: string | null;
  @Column("timestamptz", { default: () => "now()" }) at: Date;
}
