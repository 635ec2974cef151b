import { Column, CreateDateColumn, Entity, PrimaryColumn } from "typeorm";

export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

@Entity("memberships")
export class MembershipEntity {
  @PrimaryColumn("uuid") projectId: string;
  @PrimaryColumn("uuid") userId: string;
  @Column("text") role: Role;
  @CreateDateColumn({ type: "timestamptz" }) createdAt: Date;
}
