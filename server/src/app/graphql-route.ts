import type { IncomingMessage } from "node:http";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import type { NextFunction, Request, Response } from "express";
import type { AppServices, Context } from "../platform/graphql/context";

/** A body-reading failure: errorHandler answers 413 for `status` 413, else 400 with the message. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `/graphql` handed straight to Apollo's HTTP entry point (`executeHTTPGraphQLRequest`): what an
 * Express integration does, without Express's body parser and `res.send` (content negotiation
 * and an ETag hash of every response), which cost a small query about a third of its server
 * time. Apollo still does the GraphQL side of HTTP: CSRF prevention, GET queries, status codes.
 */
export function graphqlRoute(apollo: ApolloServer<Context>, app: AppServices) {
  const limit = app.config.limits.maxBodyBytes;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
      }
      const query = req.url.indexOf("?");
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method.toUpperCase(),
          headers,
          search: query < 0 ? "" : req.url.slice(query),
          body: req.method === "POST" && isJson(headers.get("content-type"), headers.get("content-encoding")) ? await readJson(req, limit) : undefined,
        },
        context: async () => ({ requestId: req.requestId, viewer: req.viewer, app }),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === "complete") {
        res.end(response.body.string);
        return;
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (err) {
      next(err);
    }
  };
}

/** application/json or a +json type; any charset but UTF-8, or a compressed body, is refused rather than misread. */
function isJson(contentType: string | undefined, encoding: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.toLowerCase().split(";");
  const mime = type.trim();
  if (mime !== "application/json" && !mime.endsWith("+json")) return false;
  const charset = params.map((p) => p.trim()).find((p) => p.startsWith("charset="));
  if (charset && !["charset=utf-8", 'charset="utf-8"', "charset=utf8"].includes(charset)) throw new BodyError(415, `unsupported charset ${charset.slice(8)}: send UTF-8`);
  if (encoding && encoding.trim().toLowerCase() !== "identity") throw new BodyError(415, `unsupported content-encoding ${encoding}: send the body uncompressed`);
  return true;
}

/**
 * The body as JSON, refused once it passes `limit` bytes (declared or sent). A refused body is
 * drained, not cut off, so the client reads the 413 and its connection stays usable.
 */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new BodyError(413, `request body larger than ${limit} bytes`);
  if (Number(req.headers["content-length"]) > limit) throw tooLarge();
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    // A client that goes away mid-body: its own doing, not a server fault (nobody reads the answer).
    const onError = () => reject(new BodyError(400, "request aborted"));
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData).off("end", onEnd).off("error", onError);
      req.on("error", () => undefined); // still draining: a reset now is nobody's concern
      req.resume();
      reject(tooLarge());
    };
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new BodyError(400, "malformed JSON");
  }
}
