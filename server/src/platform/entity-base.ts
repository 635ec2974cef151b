import { Column, CreateDateColumn, Index, PrimaryGeneratedColumn } from "typeorm";

/**
 * Most rows belong to one project; that column is what authorization filters on. Foreign
 * keys live in migrations/, entities stay flat: services join explicitly where they need to.
 */
export abstract class ProjectScopedEntity {
  @PrimaryGeneratedColumn("uuid") id: string;
  @Index() @Column("uuid") projectId: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt: Date;
}
