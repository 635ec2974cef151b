import {
  CreateLabellingTaskDocument,
  ExportLabelsDocument,
  LabellingProgressDocument,
  LabellingTaskDocument,
  LabellingTasksDocument,
  NextLabellingItemsDocument,
  SkipLabellingItemDocument,
  SubmitLabelDocument,
  type CreateLabellingTaskInput,
  type LabellingProgressFieldsFragment,
  type LabellingTaskFieldsFragment,
  type LabellingTaskQuery,
  type LabelFieldsFragment,
  type LabelValueInput,
  type NextLabellingItemsMutation,
} from "../generated/graphql";
import { JobHandle, type VersionResult } from "../job-handle";
import { liveStream, type LiveOptions, type LiveStream } from "../live";
import type { Page, PageArgs } from "../types";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

export type LabellingTask = LabellingTaskFieldsFragment;
export type LabellingProgress = LabellingProgressFieldsFragment;
export type LabellingItem = NextLabellingItemsMutation["nextLabellingItems"][number];
export type Label = LabelFieldsFragment;

export class LabellingApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /** Creates a task over a dataset version or a deployment's prediction log; a job (`buildJobId`) builds its queue. */
  async createTask(input: CreateLabellingTaskInput): Promise<LabellingTask> {
    const { createLabellingTask } = await this.ctx.http.request(CreateLabellingTaskDocument, { input });
    return createLabellingTask;
  }

  /** Your next items to label, reserved for you for 30 minutes; asking again returns the unanswered ones first. */
  async next(taskId: string, limit = 10): Promise<LabellingItem[]> {
    const { nextLabellingItems } = await this.ctx.http.request(NextLabellingItemsDocument, { taskId, limit }, { retry: true });
    return nextLabellingItems;
  }

  /** Your label for an item (`{ class }`, `{ classes }` or `{ number }`); answering again replaces it. */
  async submit(itemId: string, value: LabelValueInput): Promise<Label> {
    const { submitLabel } = await this.ctx.http.request(SubmitLabelDocument, { itemId, value }, { retry: true });
    return submitLabel;
  }

  async skip(itemId: string): Promise<Label> {
    const { skipLabellingItem } = await this.ctx.http.request(SkipLabellingItemDocument, { itemId }, { retry: true });
    return skipLabellingItem;
  }

  /** Writes the labels (consensus per row) as a new version of `dataset` (default `<task>-labels`). */
  async export(taskId: string, options: { dataset?: string; labelledOnly?: boolean } = {}): Promise<JobHandle<VersionResult>> {
    const { exportLabels } = await this.ctx.http.request(ExportLabelsDocument, { taskId, dataset: options.dataset, labelledOnly: options.labelledOnly });
    return new JobHandle<VersionResult>(exportLabels, this.jobs);
  }

  /** A task with its progress and agreement between labellers. */
  async get(id: string): Promise<LabellingTaskQuery["labellingTask"]> {
    const { labellingTask } = await this.ctx.http.request(LabellingTaskDocument, { id });
    return labellingTask;
  }

  async list(projectId: string, page: PageArgs = {}): Promise<Page<LabellingTask>> {
    const { labellingTasks } = await this.ctx.http.request(LabellingTasksDocument, { projectId, first: page.first, after: page.after });
    return labellingTasks;
  }

  /** The task's progress now, then after every label, skip or status change; resumes from its cursor. */
  progress(taskId: string, options: LiveOptions = {}): LiveStream<LabellingProgress> {
    return liveStream(this.ctx.ws, {
      document: LabellingProgressDocument,
      variables: (after) => ({ taskId, after }),
      extract: ({ labellingProgress }) => ({ items: [labellingProgress], cursor: labellingProgress.cursor }),
    }, options);
  }
}
