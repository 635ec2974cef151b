import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Config } from "../../platform/config";
import { sql } from "../../platform/db";
import { runInSubprocess } from "../../platform/subprocess";
import { throwIfAborted, type TaskContext, type TaskHandlers } from "../../platform/tasks";
import { withTempDir } from "../../platform/tmp";
import { registerVersion } from "../datasets/dataset.service";
import { FeatureSetEntity } from "../features/feature-set.entity";
import { markMaterialized } from "../features/feature-set.service";
import { eventSourceOf } from "./event-source.service";
import type { ExportedEvent } from "./events.work";

export const MATERIALIZE_EVENT_FEATURES = "events.materialize";
const WORK = path.join(__dirname, "events.work.ts");
const PAGE = 20_000;

export interface MaterializeEventsPayload {
  featureSetId: string;
}

export function eventTasks(store: ArtifactStore, config: Config): TaskHandlers {
  /**
   * The offline store of an event feature set: its window aggregations as of every event time,
   * computed in batch (polars) over the whole history, as a new version of the offline dataset.
   * buildTrainingSet then joins them as of each spine row's time.
   */
  const materialize = async (ctx: TaskContext<MaterializeEventsPayload>) => {
    const fs = await ctx.db.getRepository(FeatureSetEntity).findOneByOrFail({ id: ctx.payload.featureSetId, projectId: ctx.projectId });
    const source = await eventSourceOf(ctx.db, fs.id);
    return withTempDir(config.dataDir, "events-", async (dir) => {
      const eventsFile = path.join(dir, "events.ndjson");
      const out = createWriteStream(eventsFile);
      // Keyset pages in (time, id) order: a consistent, bounded-memory export.
      let after: { t: Date; id: string } | null = null;
      let exported = 0;
      for (;;) {
        throwIfAborted(ctx.signal);
        const rows: { event_id: string; entity_key: string; event_time: Date; payload: Record<string, unknown> }[] = await sql(
          ctx.db,
          `SELECT event_id, entity_key, event_time, payload FROM events
            WHERE feature_set_id = $1 AND ($2::timestamptz IS NULL OR (event_time, event_id) > ($2, $3))
            ORDER BY event_time, event_id LIMIT ${PAGE}`,
          [fs.id, after?.t ?? null, after?.id ?? ""],
        );
        for (const r of rows) {
          const line: ExportedEvent = { i: r.event_id, k: r.entity_key, t: r.event_time.getTime(), p: r.payload };
          if (!out.write(JSON.stringify(line) + "\n")) await once(out, "drain");
        }
        exported += rows.length;
        if (rows.length < PAGE) break;
        const last = rows[rows.length - 1];
        after = { t: last.event_time, id: last.event_id };
        await ctx.progress(0.1, `exported ${exported} events`);
      }
      out.end();
      await once(out, "finish");
      await ctx.progress(0.3, `computing ${source.aggregations.length} aggregations over ${exported} events`);
      const parquet = path.join(dir, "features.parquet");
      const spec = { entityKeys: fs.entityKeys, timeColumn: fs.timestampColumn!, fields: source.fields, aggregations: source.aggregations };
      const m = await runInSubprocess<unknown, { schema: never; rowCount: number; entities: number }>(WORK, "materializeEvents", { eventsFile, spec, out: parquet }, { signal: ctx.signal });
      const blob = await store.put(createReadStream(parquet));
      const { version } = await registerVersion(ctx.db, {
        projectId: ctx.projectId,
        datasetId: fs.offlineDatasetId!,
        sha256: blob.sha256,
        byteSize: blob.byteSize,
        schema: m.schema,
        rowCount: m.rowCount,
        source: { kind: "events", featureSetId: fs.id, events: exported },
        tags: [],
        parentVersionIds: [],
      });
      await markMaterialized(ctx.db, fs.id, version.id, source.aggregations.map((a) => a.name));
      return { offlineVersionId: version.id, events: exported, rows: m.rowCount, entities: m.entities };
    });
  };
  return { [MATERIALIZE_EVENT_FEATURES]: materialize as TaskHandlers[string] };
}
