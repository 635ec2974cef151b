import { GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { AuditResolver } from "../domains/audit/audit.resolver";
import { JobResolver } from "../domains/jobs/job.resolver";
import { ProjectResolver } from "../domains/projects/project.resolver";
import { RunResolver } from "../domains/runs/run.resolver";
import { UserResolver } from "../domains/users/user.resolver";

let built: Promise<GraphQLSchema> | undefined;

/** The one schema, built once per process. */
export function ouroSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [UserResolver, ProjectResolver, JobResolver, RunResolver, AuditResolver],
    validate: false,
    // Subscriptions bring their own event sources (see platform/live.ts); no in-memory pub/sub.
    pubSub: { publish: () => undefined, subscribe: () => { throw new Error("unused"); } } as never,
  });
  return built;
}

/** schema.graphql as committed: sorted, so the file only changes when the API does. */
export async function printOuroSchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await ouroSchema())) + "\n";
}
