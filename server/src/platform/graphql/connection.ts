import { ClassType, Field, Int, ObjectType } from "type-graphql";
import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { badInput } from "../errors";
import { CursorScalar } from "./scalars";

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage: boolean;
  @Field(() => CursorScalar, { nullable: true }) endCursor: string | null;
}

export interface Page<T> {
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** A Relay-style connection type for `T` (nodes and edges both offered). */
export function Connection<T extends object>(itemType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => itemType) node: T;
    @Field(() => CursorScalar) cursor: string;
  }
  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [itemType]) nodes: T[];
    @Field(() => [Edge]) edges: Edge[];
    @Field(() => PageInfo) pageInfo: PageInfo;
    @Field(() => Int, { description: "Items matching the filters, all pages together." }) totalCount: number;
  }
  return ConnectionType;
}

export function checkFirst(first: number | null | undefined): number {
  const n = first ?? DEFAULT_PAGE;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw badInput(`first must be from 1 to ${MAX_PAGE}`);
  return n;
}

const encode = (createdAt: Date, id: string) => Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString("base64url");

function decode(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string" && !Number.isNaN(Date.parse(v[0]))) {
      return [v[0], v[1]];
    }
  } catch {
    /* fall through */
  }
  throw badInput("invalid cursor");
}

/**
 * Newest first, keyset-paginated on (created_at, id): stable under inserts, no OFFSET scans.
 * `alias` must be the query's root alias and its entity must have createdAt and id.
 */
export async function paginate<T extends ObjectLiteral & { id: string; createdAt: Date }>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const take = checkFirst(first);
  const totalCount = await qb.clone().getCount();
  if (after) {
    const [createdAt, id] = decode(after);
    qb.andWhere(`(${alias}.created_at, ${alias}.id) < (:cAt, :cId)`, { cAt: createdAt, cId: id });
  }
  const rows = await qb.orderBy(`${alias}.created_at`, "DESC").addOrderBy(`${alias}.id`, "DESC").take(take + 1).getMany();
  const nodes = rows.slice(0, take);
  const edges = nodes.map((node) => ({ node, cursor: encode(node.createdAt, node.id) }));
  return {
    nodes,
    edges,
    totalCount,
    pageInfo: { hasNextPage: rows.length > take, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}

/** The same page with every node turned into its GraphQL shape. */
export function mapPage<A, B>(page: { nodes: A[]; edges: { node: A; cursor: string }[] } & Record<string, unknown>, fn: (a: A) => B) {
  return { ...page, nodes: page.nodes.map(fn), edges: page.edges.map((e) => ({ ...e, node: fn(e.node) })) };
}

