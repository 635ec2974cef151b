import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

@Entity("projects")
export class ProjectEntity {
  @PrimaryGeneratedColumn("uuid") id: string;
  @Column("text", { unique: true }) name: string;
  @Column("text", { default: "" }) description: string;
  @CreateDateColumn({ type: "timestamptz" }) createdAt: Date;
}
