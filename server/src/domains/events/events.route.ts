import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { badInput, OuroError, notFound, unauthenticated } from "../../platform/errors";
import type { AppServices } from "../../platform/graphql/context";
import { ingestorOf } from "./ingest.service";
import { UNPARSEABLE } from "./validate";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A JSON array, or NDJSON (one event per line; a line that is not JSON is rejected on its own). */
export function parseEventsBody(body: Buffer, contentType: string): unknown[] {
  const text = body.toString("utf8");
  const ndjson = /ndjson|jsonl|jsonlines/i.test(contentType) || (!/json/i.test(contentType) && !text.trimStart().startsWith("["));
  if (!ndjson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw badInput("the body is not valid JSON (send a JSON array of events, or NDJSON with content-type application/x-ndjson)");
    }
    if (!Array.isArray(parsed)) throw badInput("the body must be a JSON array of events");
    return parsed;
  }
  const events: unknown[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      // Kept in place so indexes match lines; validation rejects it with its position.
      events.push(UNPARSEABLE);
    }
  }
  return events;
}

/**
 * POST /v1/events/{featureSetId}: a batch of events as a JSON array or NDJSON. Answers 200
 * with {accepted, duplicates, rejected: [{index, eventId, reason}], entitiesUpdated,
 * watermark}; 429 with Retry-After when ingestion is at capacity (nothing of that batch is
 * applied); 413 over OURO_EVENTS_MAX_BODY_BYTES; NOT_FOUND for another project's feature set.
 */
export function eventsRoute(app: AppServices): RequestHandler[] {
  const { maxBodyBytes, maxInFlight, retryAfterSeconds } = app.config.events;
  const atCapacity = () =>
    new OuroError("RATE_LIMITED", `event ingestion is at capacity (${maxInFlight} batches in flight); retry after ${retryAfterSeconds} s`, { retryAfterSeconds });
  // Refuse before reading the body when already full: a burst costs no parsing.
  const early: RequestHandler = (req, res, next) => {
    const declared = Number(req.header("content-length") ?? NaN);
    if (declared > maxBodyBytes) {
      req.resume();
      return next(new OuroError("PAYLOAD_TOO_LARGE", `event batch larger than ${maxBodyBytes} bytes (OURO_EVENTS_MAX_BODY_BYTES)`));
    }
    if (ingestorOf(app).busy >= maxInFlight) {
      req.resume();
      return next(atCapacity());
    }
    next();
  };
  const handler = async (req: Request, res: Response) => {
    if (!req.viewer) throw unauthenticated();
    const id = String(req.params.featureSet ?? "");
    if (!UUID.test(id)) throw notFound("feature set", id.slice(0, 64));
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!body.length) throw badInput("the body is empty: send a JSON array of events or NDJSON");
    const events = parseEventsBody(body, String(req.header("content-type") ?? ""));
    res.json(await ingestorOf(app).ingest(req.viewer, id, events));
  };
  return [
    early,
    express.raw({ type: () => true, limit: maxBodyBytes }),
    (req: Request, res: Response, next: NextFunction) => {
      handler(req, res).catch(next);
    },
  ];
}
