import type { Viewer } from "../../platform/auth";
import { sql, type Db } from "../../platform/db";
import { badInput, forbidden, notFound, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { MembershipEntity, ROLES, type Role } from "./membership.entity";
import { ProjectEntity } from "./project.entity";

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/**
 * The one authorization check of the project model. Someone outside a project cannot tell
 * its objects exist: they get NOT_FOUND, exactly as for an id that does not exist. A member
 * whose role is too low gets FORBIDDEN. Instance administrators act as project admins.
 */
export async function requireRole(db: Db, viewer: Viewer, projectId: string, minimum: Role): Promise<Role> {
  if (viewer.isAdmin) {
    const exists = await sql(db, "SELECT 1 FROM projects WHERE id = $1", [projectId]);
    if (exists.length === 0) throw notFound("project", projectId);
    return "admin";
  }
  const rows = await sql<{ role: Role }>(db, "SELECT role FROM memberships WHERE project_id = $1 AND user_id = $2", [projectId, viewer.userId]);
  const role = rows[0]?.role;
  if (!role) throw notFound("project", projectId);
  if (RANK[role] < RANK[minimum]) throw forbidden(`this needs the ${minimum} role in the project; you are ${role}`);
  return role;
}

/**
 * A project-owned row for the viewer with at least `minimum`. A missing row and a row of a
 * project the viewer is not in give the same NOT_FOUND ("<what> <id> not found").
 */
export async function requireRowAccess<T extends { projectId: string }>(
  db: Db,
  viewer: Viewer,
  row: T | null,
  what: string,
  id: string,
  minimum: Role,
): Promise<T> {
  if (!row) throw notFound(what, id);
  try {
    await requireRole(db, viewer, row.projectId, minimum);
  } catch (err) {
    if (err instanceof OuroError && err.code === "NOT_FOUND") throw notFound(what, id);
    throw err;
  }
  return row;
}

export async function createProject(db: Db, viewer: Viewer, name: string, description: string, requestId?: string): Promise<ProjectEntity> {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name)) {
    throw badInput("project name: 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit", { field: "name" });
  }
  if (description.length > 10_000) throw badInput("description is longer than 10000 characters", { field: "description" });
  return db.transaction(async (tx) => {
    const project = await tx.getRepository(ProjectEntity).save({ name, description });
    await tx.getRepository(MembershipEntity).insert({ projectId: project.id, userId: viewer.userId, role: "admin" });
    await recordAudit(tx, { projectId: project.id, actorId: viewer.userId, action: "project.create", targetType: "project", targetId: project.id, requestId });
    return project;
  });
}

export async function getProject(db: Db, viewer: Viewer, id: string): Promise<ProjectEntity> {
  await requireRole(db, viewer, id, "viewer");
  const project = await db.getRepository(ProjectEntity).findOneBy({ id });
  if (!project) throw notFound("project", id);
  return project;
}

export async function getProjectByName(db: Db, viewer: Viewer, name: string): Promise<ProjectEntity> {
  const project = await db.getRepository(ProjectEntity).findOneBy({ name });
  if (!project) throw notFound("project", name);
  await requireRole(db, viewer, project.id, "viewer");
  return project;
}

/** The SQL condition limiting a project listing to what the viewer may see. */
export function visibleProjectsCondition(viewer: Viewer, alias = "p"): { where: string; params: unknown[] } {
  if (viewer.isAdmin) return { where: "true", params: [] };
  return { where: `${alias}.id IN (SELECT project_id FROM memberships WHERE user_id = ?)`, params: [viewer.userId] };
}

export async function setMembership(db: Db, viewer: Viewer, projectId: string, userId: string, role: Role, requestId?: string): Promise<MembershipEntity> {
  await requireRole(db, viewer, projectId, "admin");
  if (!ROLES.includes(role)) throw badInput(`role must be one of ${ROLES.join(", ")}`);
  return db.transaction(async (tx) => {
    await tx.getRepository(MembershipEntity).upsert({ projectId, userId, role }, ["projectId", "userId"]);
    await recordAudit(tx, { projectId, actorId: viewer.userId, action: "membership.set", targetType: "user", targetId: userId, data: { role }, requestId });
    return tx.getRepository(MembershipEntity).findOneByOrFail({ projectId, userId });
  });
}

export async function myRole(db: Db, viewer: Viewer, projectId: string): Promise<Role> {
  return requireRole(db, viewer, projectId, "viewer");
}
