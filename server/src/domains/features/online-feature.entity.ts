import { Column, Entity, PrimaryColumn } from "typeorm";

/** The online store: latest feature values of one entity. */
@Entity("online_features")
export class OnlineFeatureEntity {
  @PrimaryColumn("uuid") featureSetId: string;
  /** The entity key value as text; a composite key is the JSON array of its values. */
  @PrimaryColumn("text") entityKey: string;
  @Column("timestamptz", { nullable: true }) eventTime: Date | null;
  @Column("jsonb") values: Record<string, unknown>;
  @Column("timestamptz", { default: () => "now()" }) updatedAt: Date;
}
