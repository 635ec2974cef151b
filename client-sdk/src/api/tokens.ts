import { ApiTokensDocument, CreateApiTokenDocument, RevokeApiTokenDocument, type CreateApiTokenMutation } from "../generated/graphql";
import type { ApiToken } from "../types";
import type { ClientContext } from "./context";

export class TokensApi {
  constructor(private readonly ctx: ClientContext) {}

  /** Your tokens (never their secret). */
  async list(): Promise<ApiToken[]> {
    const { apiTokens } = await this.ctx.http.request(ApiTokensDocument, {});
    return apiTokens;
  }

  /** A new token; `token` is shown only in this answer. Instance admins may pass another user's id. */
  async create(input: { name: string; expiresInDays?: number; userId?: string }): Promise<CreateApiTokenMutation["createApiToken"]> {
    const { createApiToken } = await this.ctx.http.request(CreateApiTokenDocument, { input });
    return createApiToken;
  }

  /** Revokes at once; the token's open subscriptions are closed. */
  async revoke(id: string): Promise<ApiToken> {
    const { revokeApiToken } = await this.ctx.http.request(RevokeApiTokenDocument, { id }, { retry: true });
    return revokeApiToken;
  }
}
