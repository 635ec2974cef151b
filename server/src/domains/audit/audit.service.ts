import { Bus } from "../../platform/bus";
import type { Db, Tx } from "../../platform/db";
import type { Feed } from "../../platform/live";
import { AuditEventEntity } from "./audit-event.entity";

export const auditTopic = (projectId: string) => `audit:${projectId}`;

export interface AuditInput {
  projectId: string | null;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  data?: Record<string, unknown>;
  requestId?: string | null;
}

/**
 * Appends to the audit trail inside the caller's transaction, so the event exists exactly
 * when the change does. Writers of one project take turns, which keeps `seq` in commit order.
 */
export async function recordAudit(tx: Tx, e: AuditInput): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`audit:${e.projectId ?? "-"}`]);
  await tx.query(
    `INSERT INTO audit_events (project_id, actor_id, action, target_type, target_id, data, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.projectId, e.actorId, e.action, e.targetType, e.targetId ?? null, e.data ?? {}, e.requestId ?? null],
  );
  if (e.projectId) await Bus.publish(tx, auditTopic(e.projectId));
}

export function auditFeed(db: Db, projectId: string): Feed<AuditEventEntity> {
  return {
    topic: auditTopic(projectId),
    fetchAfter: (cursor, limit) =>
      db.getRepository(AuditEventEntity).createQueryBuilder("a")
        .where("a.project_id = :projectId AND a.seq > :cursor", { projectId, cursor: cursor.toString() })
        .orderBy("a.seq", "ASC").limit(limit).getMany(),
    cursorOf: (e) => BigInt(e.seq),
  };
}

export async function listAudit(db: Db, projectId: string, after: bigint, limit: number): Promise<AuditEventEntity[]> {
  return auditFeed(db, projectId).fetchAfter(after, limit);
}
