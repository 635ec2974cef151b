import { Field, ID, InputType, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";

export enum RoleEnum {
  viewer = "viewer",
  editor = "editor",
  admin = "admin",
}
registerEnumType(RoleEnum, { name: "Role", description: "viewer reads; editor also writes; admin also manages members." });

@ObjectType("Project")
export class ProjectType {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => Date) createdAt: Date;
}

export const ProjectConnection = Connection(ProjectType, "Project");

@ObjectType("Membership")
export class MembershipType {
  @Field(() => ID) projectId: string;
  @Field(() => ID) userId: string;
  @Field(() => RoleEnum) role: RoleEnum;
}

@InputType()
export class CreateProjectInput {
  @Field(() => String, { description: "Lowercase letters, digits, - and _." }) name: string;
  @Field(() => String, { defaultValue: "" }) description: string;
}
