import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { badInput, notFound } from "../../platform/errors";
import { paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar } from "../../platform/graphql/scalars";
import { findUserByEmail } from "../users/token.service";
import { ProjectEntity } from "./project.entity";
import { createProject, getProject, getProjectByName, myRole, setMembership, visibleProjectsCondition } from "./project.service";
import { CreateProjectInput, MembershipType, ProjectConnection, ProjectType, RoleEnum } from "./project.type";

@Resolver(() => ProjectType)
export class ProjectResolver {
  @Query(() => ProjectType, { description: "A project by id or by name." })
  async project(
    @Ctx() ctx: Context,
    @Arg("id", () => ID, { nullable: true }) id?: string,
    @Arg("name", () => String, { nullable: true }) name?: string,
  ): Promise<ProjectType> {
    const viewer = viewerOf(ctx);
    if (id) return getProject(ctx.app.db, viewer, id);
    if (name) return getProjectByName(ctx.app.db, viewer, name);
    throw badInput("give id or name");
  }

  @Query(() => ProjectConnection, { description: "Projects you are a member of (all, for instance admins)." })
  async projects(
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    const { where, params } = visibleProjectsCondition(viewerOf(ctx));
    const qb = ctx.app.db.getRepository(ProjectEntity).createQueryBuilder("p").where(where.replace("?", ":uid"), { uid: params[0] });
    return paginate(qb, "p", first, after);
  }

  @FieldResolver(() => RoleEnum, { description: "Your role in this project." })
  async myRole(@Root() project: ProjectType, @Ctx() ctx: Context): Promise<RoleEnum> {
    return (await myRole(ctx.app.db, viewerOf(ctx), project.id)) as RoleEnum;
  }

  @Mutation(() => ProjectType)
  async createProject(@Arg("input", () => CreateProjectInput) input: CreateProjectInput, @Ctx() ctx: Context): Promise<ProjectType> {
    return createProject(ctx.app.db, viewerOf(ctx), input.name, input.description, ctx.requestId);
  }

  @Mutation(() => MembershipType, { description: "Adds a user to a project or changes their role (project admins)." })
  async setMembership(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("email", () => String) email: string,
    @Arg("role", () => RoleEnum) role: RoleEnum,
    @Ctx() ctx: Context,
  ): Promise<MembershipType> {
    const viewer = viewerOf(ctx);
    const user = await findUserByEmail(ctx.app.db, email);
    if (!user) throw notFound("user", email);
    const m = await setMembership(ctx.app.db, viewer, projectId, user.id, role, ctx.requestId);
    return { projectId: m.projectId, userId: m.userId, role: m.role as RoleEnum };
  }
}
