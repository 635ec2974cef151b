import { Column, Entity } from "typeorm";
import { ProjectScopedEntity } from "../../platform/entity-base";

/** A file in the artifact store, addressed by its SHA-256; never by a user-given path. */
@Entity("artifacts")
export class ArtifactEntity extends ProjectScopedEntity {
  @Column("uuid", { nullable: true }) runId: string | null;
  @Column("text") name: string;
  @Column("text") kind: string;
  @Column("text") sha256: string;
  @Column("bigint") byteSize: string;
  @Column("text") contentType: string;
}
