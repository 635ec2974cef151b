import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { type DocumentNode, type GraphQLError, type GraphQLSchema, parse, specifiedRules, validate, type ValidationContext, type ValidationRule } from "graphql";
import type { Config } from "../config";

/**
 * The same limits guard HTTP and WebSocket operations: depth, aliases, directives and cost
 * are validation rules; the token count is enforced while parsing, before any of that.
 */
export function limitRules(limits: Config["limits"]): ValidationRule[] {
  // Report through validation (a 400 with GRAPHQL_VALIDATION_FAILED), never by throwing.
  const propagate = {
    propagateOnRejection: false,
    exposeLimits: true,
    onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err)],
  };
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...propagate }),
    maxAliasesRule({ n: limits.maxAliases, allowList: [], ...propagate }),
    maxDirectivesRule({ n: limits.maxDirectives, ...propagate }),
    costLimitRule({ maxCost: limits.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true, ...propagate }),
  ] as ValidationRule[];
}

export function parseWithLimits(query: string, limits: Config["limits"]): DocumentNode {
  return parse(query, { maxTokens: limits.maxTokens });
}

export function validateWithLimits(schema: GraphQLSchema, doc: DocumentNode, limits: Config["limits"]): readonly GraphQLError[] {
  return validate(schema, doc, [...specifiedRules, ...limitRules(limits)]);
}
