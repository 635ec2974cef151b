import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

@Entity("users")
export class UserEntity {
  @PrimaryGeneratedColumn("uuid") id: string;
  @Column("text", { unique: true }) email: string;
  @Column("text") name: string;
  /** Instance administrator: sees every project, manages users. */
  @Column("boolean", { default: false }) isAdmin: boolean;
  @CreateDateColumn({ type: "timestamptz" }) createdAt: Date;
}
