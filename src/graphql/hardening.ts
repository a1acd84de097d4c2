// The GraphQL layer's own guards (issue 6): one authentication mutation per operation, graphql-armor's depth, token,
// alias, directive and cost limits, yoga's CSRF prevention, and no introspection in production.
import {
  GraphQLError, Kind, NoSchemaIntrospectionCustomRule,
  type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Config } from '../config.js';

/**
 * Every mutation that verifies a secret, starts a session, or writes for an anonymous caller (the ceremonies' begin
 * steps store a challenge). Factor paths added later belong here too.
 */
export const authenticationMutations: ReadonlySet<string> = new Set([
  'signup', 'login', 'authenticateMfa', 'mfaReauthenticate', 'reauthenticate', 'authenticateWebAuthn', 'loginWithPasskey',
  'changePassword', 'activateTotp', 'deactivateTotp', 'regenerateRecoveryCodes', 'registerWebAuthn', 'changeEmail', 'deleteAccount',
  'beginPasskeySignup', 'completePasskeySignup', 'beginWebAuthnAuthentication', 'beginWebAuthnRegistration',
  'beginEmailCodeEnrollment', 'activateEmailCode', 'removeEmailCode', 'requestEmailCode',
  'resetUserMfa', 'revokeRole', 'requireMfa', 'liftMfaRequirement', 'signOutUser',
  'requestPasswordReset', 'resetPassword', 'verifyEmail', 'resendEmailVerification', 'reportCompromise', 'confirmSuspendedFactor',
]);

/** The header cookie clients send so a cross-site form cannot post to us (yoga's CSRF prevention). */
export const csrfHeader = 'x-tessera-csrf';

function countAuthenticationFields(selectionSet: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (authenticationMutations.has(selection.name.value)) count++;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countAuthenticationFields(selection.selectionSet, fragments, seen);
    } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment || seen.has(name)) continue;
      seen.add(name);
      count += countAuthenticationFields(fragment.selectionSet, fragments, seen);
    }
  }
  return count;
}

/**
 * At most one authentication mutation per operation, refused at validation, before any resolver runs: aliases
 * (`a1: authenticateMfa … a100: authenticateMfa`) cannot turn one request into a hundred guesses.
 */
export const oneAuthenticationMutationRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    if (node.operation !== 'mutation') return;
    const fragments = Object.fromEntries(context.getDocument().definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    const count = countAuthenticationFields(node.selectionSet, fragments, new Set());
    if (count > 1) {
      context.reportError(new GraphQLError(`An operation may carry at most one authentication mutation (found ${count}).`, { nodes: [node], extensions: { code: 'TOO_MANY_AUTHENTICATION_MUTATIONS' } }));
    }
  },
});

function validationRules(rules: ValidationRule[]): Plugin {
  return {
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
  };
}

export function hardeningPlugins(config: Config): Plugin[] {
  const rules: ValidationRule[] = [oneAuthenticationMutationRule];
  if (config.isProduction) rules.push(NoSchemaIntrospectionCustomRule);
  return [
    // JSON posts are preflighted by browsers (and CORS allows only CORS_ORIGINS); form and text posts, which a foreign
    // page can send with the user's cookie, must carry the header, which such a page cannot set.
    useCSRFPrevention({ requestHeaders: [csrfHeader, 'apollo-require-preflight'] }) as Plugin,
    EnvelopArmorPlugin({
      maxDepth: { n: 10, ignoreIntrospection: true, flattenFragments: true },
      maxAliases: { n: 15 },
      maxDirectives: { n: 20 },
      maxTokens: { n: 2000 },
      // Depth has its own limit; the cost limit weighs breadth (fields × lists) without compounding per level.
      costLimit: { maxCost: 5000, depthCostFactor: 1 },
      blockFieldSuggestion: { enabled: config.isProduction },
    }) as Plugin,
    validationRules(rules),
  ];
}
