import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";

/** One row in a task's queue, with a snapshot of its values. */
@Entity("labelling_items")
export class LabellingItemEntity {
  @PrimaryGeneratedColumn("uuid") id: string;
  @Column("uuid") taskId: string;
  @Column("integer") position: number;
  @Column("bigint", { nullable: true }) rowIndex: string | null;
  @Column("text", { nullable: true }) requestId: string | null;
  @Column("jsonb") values: Record<string, unknown>;
  @Column("double precision", { nullable: true }) score: number | null;
  @Column("jsonb", { nullable: true }) prediction: unknown;
  @Column("integer", { default: 0 }) labelCount: number;
}

/** One labeller's answer for one item: a value, or a skip (value null). */
@Entity("labelling_labels")
export class LabelEntity {
  @PrimaryColumn("uuid") itemId: string;
  @PrimaryColumn("uuid") userId: string;
  @Column("uuid") taskId: string;
  @Column("jsonb", { nullable: true }) value: unknown;
  @Column("boolean", { default: false }) skipped: boolean;
  @Column("timestamptz", { default: () => "now()" }) createdAt: Date;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}

/** An item handed to a labeller and not answered yet; counts towards labelsPerRow until it expires. */
@Entity("labelling_claims")
export class LabellingClaimEntity {
  @PrimaryColumn("uuid") itemId: string;
  @PrimaryColumn("uuid") userId: string;
  @Column("uuid") taskId: string;
  @Column("timestamptz") expiresAt: Date;
}
