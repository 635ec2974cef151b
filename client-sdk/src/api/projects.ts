import { CreateProjectDocument, ProjectDocument, ProjectsDocument, SetMembershipDocument, type Role, type SetMembershipMutation } from "../generated/graphql";
import type { Page, PageArgs, Project } from "../types";
import type { ClientContext } from "./context";

export class ProjectsApi {
  constructor(private readonly ctx: ClientContext) {}

  /** Creates a project; you become its admin. A taken name is a CONFLICT. */
  async create(input: { name: string; description?: string }): Promise<Project> {
    const { createProject } = await this.ctx.http.request(CreateProjectDocument, { input });
    return createProject;
  }

  /** Projects you are a member of (all, for instance admins), one page. */
  async list(page: PageArgs = {}): Promise<Page<Project>> {
    const { projects } = await this.ctx.http.request(ProjectsDocument, { first: page.first, after: page.after });
    return projects;
  }

  /** Every project you can see, page after page. */
  async *all(pageSize = 100): AsyncGenerator<Project> {
    let after: string | null = null;
    for (;;) {
      const page: Page<Project> = await this.list({ first: pageSize, after });
      yield* page.nodes;
      if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
      after = page.pageInfo.endCursor;
    }
  }

  /** A project by id; NOT_FOUND when it does not exist or you are not a member. */
  async get(id: string): Promise<Project> {
    const { project } = await this.ctx.http.request(ProjectDocument, { id });
    return project;
  }

  async getByName(name: string): Promise<Project> {
    const { project } = await this.ctx.http.request(ProjectDocument, { name });
    return project;
  }

  /** Adds a user (by email) to a project or changes their role. Project admins only. */
  async setMembership(projectId: string, email: string, role: Role): Promise<SetMembershipMutation["setMembership"]> {
    const { setMembership } = await this.ctx.http.request(SetMembershipDocument, { projectId, email, role });
    return setMembership;
  }
}
