import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from "graphql";

/**
 * Marks a subscription event whose result is the same for every subscriber running the same
 * operation: its resolvers read only the event, never the viewer. The value names the event
 * (e.g. a run and the range of points it carries).
 */
export const SHARED_EVENT = Symbol("ouro.sharedEvent");

export interface SharedEvent {
  [SHARED_EVENT]?: string;
}

const CACHE_MS = 5_000;

/**
 * graphql's subscribe, except that an event marked SHARED_EVENT is executed once per
 * operation (query, variables, operation name) and the result handed to every subscriber
 * that receives it: a hundred dashboards on one run cost one execution per batch, not a
 * hundred. `operationKey` says what makes two subscriptions the same operation.
 */
export function sharedSubscribe(operationKey: (args: ExecutionArgs) => string) {
  const results = new Map<string, ExecutionResult | Promise<ExecutionResult>>();
  return async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
    const events = source as AsyncIterableIterator<unknown>;
    const op = operationKey(args);
    const run = (event: unknown) => {
      const key = (event as SharedEvent | null)?.[SHARED_EVENT];
      if (!key) return execute({ ...args, rootValue: event });
      const cacheKey = `${op}\u0000${key}`;
      let result = results.get(cacheKey);
      if (!result) {
        result = execute({ ...args, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>;
        results.set(cacheKey, result);
        setTimeout(() => results.delete(cacheKey), CACHE_MS).unref();
      }
      return result;
    };
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => mapped,
      async next() {
        const r = await events.next();
        return r.done ? { value: undefined, done: true } : { value: await run(r.value), done: false };
      },
      async return() {
        await events.return?.();
        return { value: undefined, done: true };
      },
    };
    return mapped;
  };
}
