import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

/**
 * Opaque position in a stream or list. Clients store it and hand it back; its format is
 * ours to change.
 */
export const CursorScalar = new GraphQLScalarType({
  name: "Cursor",
  description: "Opaque position in a list or live stream; pass it back as `after` to resume.",
  serialize: (v) => String(v),
  parseValue: (v) => parseCursor(v),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError("Cursor must be a string");
    return parseCursor(ast.value);
  },
});

function parseCursor(v: unknown): string {
  if (typeof v !== "string" || v.length > 200) throw new GraphQLError("Cursor must be a string of at most 200 characters");
  return v;
}

const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** Stream cursors are decimal sequence numbers; anything else is a client error. */
export function streamPosition(cursor: string | null | undefined): bigint {
  if (cursor == null || cursor === "") return 0n;
  const value = /^\d{1,19}$/.test(cursor) ? BigInt(cursor) : -1n;
  if (value < 0n || value > MAX_BIGINT) throw new GraphQLError("invalid cursor", { extensions: { code: "BAD_USER_INPUT" } });
  return value;
}
