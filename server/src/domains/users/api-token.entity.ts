import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from "typeorm";

/** Only the SHA-256 of a token is stored; the token itself is shown once, at creation. */
@Entity("api_tokens")
export class ApiTokenEntity {
  @PrimaryGeneratedColumn("uuid") id: string;
  @Index() @Column("uuid") userId: string;
  @Column("text") name: string;
  @Column("text", { unique: true }) tokenHash: string;
  /** First characters of the token, so a user can tell their tokens apart. */
  @Column("text") prefix: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt: Date;
  @Column("timestamptz", { nullable: true }) lastUsedAt: Date | null;
  @Column("timestamptz", { nullable: true }) expiresAt: Date | null;
  @Column("timestamptz", { nullable: true }) revokedAt: Date | null;
}
