import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { mapPage, paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar, streamPosition } from "../../platform/graphql/scalars";
import { oneByOne } from "../../platform/live";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { JobEntity } from "./job.entity";
import { cancelJob, getJob, isFinal, jobFeed, jobLogs, requireJob } from "./job.service";
import { CancelJobResult, JobConnection, JobLogLineType, JobNotCancellable, JobStatusEnum, JobType } from "./job.type";

@ArgsType()
class JobUpdatedArgs {
  @Field(() => ID) id: string;
  @Field(() => CursorScalar, { nullable: true }) after?: string;
}

/** Loads a job for the viewer; another project's job is indistinguishable from a missing one. */
async function accessJob(ctx: Context, id: string, role: "viewer" | "editor"): Promise<JobEntity> {
  return requireRowAccess(ctx.app.db, viewerOf(ctx), await getJob(ctx.app.db, id), "job", id, role);
}

const asType = (e: JobEntity): JobType => Object.assign(new JobType(), e);

@Resolver(() => JobType)
export class JobResolver {
  @Query(() => JobType)
  async job(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<JobType> {
    return asType(await accessJob(ctx, id, "viewer"));
  }

  @Query(() => JobConnection, { description: "A project's jobs, newest first." })
  async jobs(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("status", () => JobStatusEnum, { nullable: true }) status?: JobStatusEnum,
    @Arg("kind", () => String, { nullable: true }) kind?: string,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(JobEntity).createQueryBuilder("j").where("j.project_id = :projectId", { projectId });
    if (status) qb.andWhere("j.status = :status", { status });
    if (kind) qb.andWhere("j.kind = :kind", { kind });
    const page = await paginate(qb, "j", first, after);
    return mapPage(page, asType);
  }

  @FieldResolver(() => [JobLogLineType], { description: "The last log lines, oldest first." })
  async logs(@Root() job: JobType, @Ctx() ctx: Context, @Arg("last", () => Int, { defaultValue: 50 }) last: number): Promise<JobLogLineType[]> {
    return jobLogs(ctx.app.db, job.id, Math.min(Math.max(last, 1), 500));
  }

  @Mutation(() => CancelJobResult, { description: "Stops a queued or running job. A finished job is returned as JobNotCancellable." })
  async cancelJob(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<typeof CancelJobResult> {
    const job = await accessJob(ctx, id, "editor");
    const cancelled = await cancelJob(ctx.app.db, id);
    if (cancelled) return asType(cancelled);
    return Object.assign(new JobNotCancellable(), { message: `job ${id} already ${job.status}`, job: asType(await requireJob(ctx.app.db, id)) });
  }

  @Subscription(() => JobType, {
    description: "The job now, then again on every change; ends after the job does. With `after`, only changes after that cursor.",
    subscribe: async ({ args, context }) => {
      const { id, after } = args as JobUpdatedArgs;
      const ctx = context as Context;
      await accessJob(ctx, id, "viewer");
      return untilFinal(oneByOne(ctx.app.live.follow(jobFeed(ctx.app.db, id), streamPosition(after))));
    },
  })
  jobUpdated(@Root() job: JobEntity, @Args(() => JobUpdatedArgs) _args: JobUpdatedArgs): JobType {
    return asType(job);
  }
}

/** Ends the stream once a finished job has been delivered: nothing more can happen to it. */
function untilFinal(jobs: AsyncIterableIterator<JobEntity>): AsyncIterableIterator<JobEntity> {
  let ended = false;
  const it: AsyncIterableIterator<JobEntity> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      if (ended) {
        await jobs.return?.();
        return { value: undefined, done: true };
      }
      const r = await jobs.next();
      if (!r.done && isFinal(r.value.status)) ended = true;
      return r;
    },
    async return() {
      await jobs.return?.();
      return { value: undefined, done: true };
    },
  };
  return it;
}
