import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { forbidden } from "../../platform/errors";
import { createToken, createUser, getUser, listTokens, revokeToken } from "./token.service";
import { ApiTokenType, CreateApiTokenInput, CreatedApiTokenType, CreateUserInput, UserType } from "./user.type";

@Resolver()
export class UserResolver {
  @Query(() => UserType, { description: "The user the token belongs to." })
  async viewer(@Ctx() ctx: Context): Promise<UserType> {
    return getUser(ctx.app.db, viewerOf(ctx).userId);
  }

  @Query(() => [ApiTokenType])
  async apiTokens(@Ctx() ctx: Context): Promise<ApiTokenType[]> {
    return listTokens(ctx.app.db, viewerOf(ctx).userId);
  }

  @Mutation(() => UserType, { description: "Instance admins only." })
  async createUser(@Arg("input", () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: Context): Promise<UserType> {
    if (!viewerOf(ctx).isAdmin) throw forbidden("only instance administrators create users");
    return createUser(ctx.app.db, input.email, input.name, input.isAdmin);
  }

  @Mutation(() => CreatedApiTokenType)
  async createApiToken(@Arg("input", () => CreateApiTokenInput) input: CreateApiTokenInput, @Ctx() ctx: Context): Promise<CreatedApiTokenType> {
    const viewer = viewerOf(ctx);
    const userId = input.userId ?? viewer.userId;
    if (userId !== viewer.userId && !viewer.isAdmin) throw forbidden("only instance administrators create tokens for others");
    await getUser(ctx.app.db, userId);
    const { token, entity } = await createToken(ctx.app.db, userId, input.name, input.expiresInDays);
    return { token, apiToken: entity };
  }

  @Mutation(() => ApiTokenType, { description: "Revokes a token at once; its open subscriptions are closed." })
  async revokeApiToken(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<ApiTokenType> {
    const revoked = await revokeToken(ctx.app.db, viewerOf(ctx), id);
    ctx.app.tokens.forgetToken(id); // at once here; other processes hear it on the bus
    return revoked;
  }
}
