import { Field, ID, InputType, Int, ObjectType } from "type-graphql";

@ObjectType("User")
export class UserType {
  @Field(() => ID) id: string;
  @Field(() => String) email: string;
  @Field(() => String) name: string;
  @Field(() => Boolean) isAdmin: boolean;
  @Field(() => Date) createdAt: Date;
}

/** A token as listed: never the token itself, which exists only in the creation response. */
@ObjectType("ApiToken")
export class ApiTokenType {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String, { description: "First characters of the token, to tell tokens apart." }) prefix: string;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) lastUsedAt: Date | null;
  @Field(() => Date, { nullable: true }) expiresAt: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
}

@ObjectType("CreatedApiToken")
export class CreatedApiTokenType {
  @Field(() => String, { description: "Shown once. Store it now: Ouro keeps only its hash." }) token: string;
  @Field(() => ApiTokenType) apiToken: ApiTokenType;
}

@InputType()
export class CreateApiTokenInput {
  @Field(() => String) name: string;
  @Field(() => Int, { nullable: true, description: "Days until it expires; never if omitted." }) expiresInDays?: number | null;
  @Field(() => ID, { nullable: true, description: "Instance admins may create tokens for another user." }) userId?: string | null;
}

@InputType()
export class CreateUserInput {
  @Field(() => String) email: string;
  @Field(() => String) name: string;
  @Field(() => Boolean, { defaultValue: false }) isAdmin: boolean;
}
