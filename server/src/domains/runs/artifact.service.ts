import type { Readable } from "node:stream";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Db } from "../../platform/db";
import { ArtifactEntity } from "./artifact.entity";

export interface SaveArtifactInput {
  projectId: string;
  runId: string | null;
  name: string;
  kind: string;
  contentType: string;
  content: Readable | Iterable<Buffer | string> | AsyncIterable<Buffer | string>;
}

/**
 * Stores bytes and records them once: the same bytes saved again for the same run, name and
 * kind (a retried job) return the existing artifact rather than a second one.
 */
export async function saveArtifact(db: Db, store: ArtifactStore, input: SaveArtifactInput): Promise<ArtifactEntity> {
  const blob = await store.put(input.content);
  const repo = db.getRepository(ArtifactEntity);
  const existing = await repo.findOneBy({ projectId: input.projectId, runId: input.runId ?? undefined, name: input.name, kind: input.kind, sha256: blob.sha256 });
  if (existing) return existing;
  return repo.save({
    projectId: input.projectId,
    runId: input.runId,
    name: input.name,
    kind: input.kind,
    sha256: blob.sha256,
    byteSize: String(blob.byteSize),
    contentType: input.contentType,
  });
}

export async function listArtifacts(db: Db, runId: string): Promise<ArtifactEntity[]> {
  return db.getRepository(ArtifactEntity).find({ where: { runId }, order: { createdAt: "ASC" } });
}
