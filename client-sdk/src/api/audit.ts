import { AuditEventsDocument, AuditTrailDocument } from "../generated/graphql";
import { liveStream, type LiveOptions, type LiveStream } from "../live";
import type { AuditEvent } from "../types";
import type { ClientContext } from "./context";

export class AuditApi {
  constructor(private readonly ctx: ClientContext) {}

  /** One page of a project's audit trail, oldest first; pass the last event's cursor as `after` for the next. */
  async trail(projectId: string, page: { after?: string | null; first?: number } = {}): Promise<AuditEvent[]> {
    const { auditTrail } = await this.ctx.http.request(AuditTrailDocument, { projectId, after: page.after, first: page.first });
    return auditTrail;
  }

  /** The whole trail after `after` (from the start when omitted), page by page, oldest first; ends at the present. */
  async *history(projectId: string, after?: string | null, pageSize = 100): AsyncGenerator<AuditEvent> {
    let cursor = after ?? null;
    for (;;) {
      const page = await this.trail(projectId, { after: cursor, first: pageSize });
      yield* page;
      if (page.length < pageSize) return;
      cursor = page[page.length - 1]!.cursor;
    }
  }

  /**
   * The audit trail after `after` (from the start when omitted), then live, as an async
   * iterator that reconnects and resumes from its cursor. It never ends by itself: break
   * out of the loop or call `close()`.
   */
  follow(projectId: string, after?: string | null, options: Omit<LiveOptions, "after"> = {}): LiveStream<AuditEvent> {
    return liveStream(this.ctx.ws, {
      document: AuditEventsDocument,
      variables: (cursor) => ({ projectId, after: cursor }),
      extract: ({ auditEvents }) => ({ items: [auditEvents], cursor: auditEvents.cursor }),
    }, { ...options, after });
  }
}
