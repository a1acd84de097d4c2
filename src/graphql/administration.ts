// The administrator's tools over GraphQL (issue 18): parse, call the use case, map. Every field here carries
// privileged('admin'): the admin role through a full session at AAL2 (the schema's otp_required); the use cases check
// the same (requireAdministrator), so the CLI and any other transport meet one rule.
import {
  liftMfaRequirement, listUsers, requireAdministrator, requireMfa, resetUserMfa, revokeRoleAsAdministrator, signOutUser,
  type MfaResetResult, type UserMfaStatus, type UsersPage,
} from '../application/administration.js';
import { AuthenticatorTypeEnum } from './authenticators.js';
import { builder, privileged } from './builder.js';

const UserMfaStatusRef = builder.objectRef<UserMfaStatus>('UserMfaStatus').implement({
  description: "A user's second factors and what the MFA policy asks of them.",
  fields: (t) => ({
    factorTypes: t.field({ type: [AuthenticatorTypeEnum], description: 'Second factors the user has (recovery codes not listed).', resolve: (u) => u.factorTypes }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, description: 'The last time a second factor was used.', resolve: (u) => u.lastMfaAt }),
    requiredBy: t.field({ type: 'DateTime', nullable: true, description: "The administrator's deadline (requireMfa), if any.", resolve: (u) => u.requiredBy }),
    deadline: t.field({
      type: 'DateTime', nullable: true,
      description: 'When sessions become limited to enrolling a strong factor (MFA_REQUIRED_ROLES or requireMfa, the earlier); null: none applies or a strong factor exists.',
      resolve: (u) => u.deadline,
    }),
  }),
});

const UserSummaryRef = builder.objectRef<UserMfaStatus>('UserSummary').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    roles: t.exposeStringList('roles'),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => u.createdAt }),
    lockedUntil: t.field({ type: 'DateTime', nullable: true, resolve: (u) => u.lockedUntil }),
    mfa: t.field({ type: UserMfaStatusRef, resolve: (u) => u }),
  }),
});

const UsersPageInfoRef = builder.objectRef<UsersPage>('UsersPageInfo').implement({
  fields: (t) => ({
    endCursor: t.string({ nullable: true, resolve: (p) => p.endCursor }),
    hasNextPage: t.exposeBoolean('hasNextPage'),
  }),
});

const UserConnectionRef = builder.objectRef<UsersPage>('UserConnection').implement({
  fields: (t) => ({
    nodes: t.field({ type: [UserSummaryRef], resolve: (p) => p.nodes }),
    pageInfo: t.field({ type: UsersPageInfoRef, resolve: (p) => p }),
  }),
});

const UsersFilterInput = builder.inputType('UsersFilter', {
  fields: (t) => ({
    role: t.string(),
    email: t.string(),
    withoutStrongFactor: t.boolean({ description: 'true: only users without TOTP or a security key; false: only users with one.' }),
  }),
});

builder.queryField('users', (t) =>
  t.field({
    type: UserConnectionRef,
    errors: {},
    authScopes: privileged('admin'),
    description: 'Users with their MFA status, paged by id (admin at AAL2).',
    args: { first: t.arg.int(), after: t.arg.string(), filter: t.arg({ type: UsersFilterInput }) },
    resolve: (_root, args, ctx) => listUsers(ctx.deps, requireAdministrator(ctx.caller), args),
  }),
);

const RequireMfaInput = builder.inputType('RequireMfaInput', {
  fields: (t) => ({ userId: t.id({ required: true }), deadline: t.field({ type: 'DateTime', required: true }), reason: t.string() }),
});
const RequireMfaPayloadRef = builder.objectRef<{ userId: string; deadline: Date }>('RequireMfaPayload').implement({
  fields: (t) => ({ userId: t.exposeID('userId'), deadline: t.field({ type: 'DateTime', resolve: (p) => p.deadline }) }),
});
builder.mutationField('requireMfa', (t) =>
  t.field({
    type: RequireMfaPayloadRef,
    errors: {},
    authScopes: privileged('admin'),
    description: 'Requires a strong second factor of one user by `deadline`; after it their sessions may only enrol one (MfaPolicyApplied).',
    args: { input: t.arg({ type: RequireMfaInput, required: true }) },
    resolve: (_root, args, ctx) => requireMfa(ctx.deps, requireAdministrator(ctx.caller), args.input, ctx.request),
  }),
);

const LiftMfaRequirementInput = builder.inputType('LiftMfaRequirementInput', { fields: (t) => ({ userId: t.id({ required: true }), reason: t.string() }) });
const LiftMfaRequirementPayloadRef = builder.objectRef<{ userId: string; lifted: boolean }>('LiftMfaRequirementPayload').implement({
  fields: (t) => ({ userId: t.exposeID('userId'), lifted: t.exposeBoolean('lifted', { description: 'False when there was no requirement to lift.' }) }),
});
builder.mutationField('liftMfaRequirement', (t) =>
  t.field({
    type: LiftMfaRequirementPayloadRef,
    errors: {},
    authScopes: privileged('admin'),
    description: "Ends the administrator's requirement (MfaPolicyLifted); MFA_REQUIRED_ROLES still apply.",
    args: { input: t.arg({ type: LiftMfaRequirementInput, required: true }) },
    resolve: (_root, args, ctx) => liftMfaRequirement(ctx.deps, requireAdministrator(ctx.caller), args.input, ctx.request),
  }),
);

const ResetUserMfaInput = builder.inputType('ResetUserMfaInput', { fields: (t) => ({ userId: t.id({ required: true }), reason: t.string({ required: true }) }) });
const ResetUserMfaPayloadRef = builder.objectRef<MfaResetResult>('ResetUserMfaPayload').implement({
  fields: (t) => ({
    userId: t.exposeID('userId'),
    removedFactorCount: t.exposeInt('removedFactorCount'),
    keptPasskeyCount: t.exposeInt('keptPasskeyCount', { description: 'Passkeys kept because the account has no password: its only way in.' }),
    endedSessionCount: t.exposeInt('endedSessionCount'),
  }),
});
builder.mutationField('resetUserMfa', (t) =>
  t.field({
    type: ResetUserMfaPayloadRef,
    errors: {},
    authScopes: privileged('admin'),
    description: "Removes every factor, recovery code and device trust of a user and ends their sessions (MfaReset). A passkey-only account keeps its passkeys.",
    args: { input: t.arg({ type: ResetUserMfaInput, required: true }) },
    resolve: (_root, args, ctx) => resetUserMfa(ctx.deps, requireAdministrator(ctx.caller), args.input, ctx.request),
  }),
);

const RevokeRoleInput = builder.inputType('RevokeRoleInput', { fields: (t) => ({ userId: t.id({ required: true }), role: t.string({ required: true }), reason: t.string() }) });
const RevokeRolePayloadRef = builder.objectRef<{ userId: string; role: string; revoked: boolean }>('RevokeRolePayload').implement({
  fields: (t) => ({ userId: t.exposeID('userId'), role: t.exposeString('role'), revoked: t.exposeBoolean('revoked', { description: 'False when the user did not hold the role.' }) }),
});
builder.mutationField('revokeRole', (t) =>
  t.field({
    type: RevokeRolePayloadRef,
    errors: {},
    authScopes: privileged('admin'),
    args: { input: t.arg({ type: RevokeRoleInput, required: true }) },
    resolve: (_root, args, ctx) => revokeRoleAsAdministrator(ctx.deps, requireAdministrator(ctx.caller), args.input, ctx.request),
  }),
);

const SignOutUserInput = builder.inputType('SignOutUserInput', { fields: (t) => ({ userId: t.id({ required: true }), reason: t.string() }) });
const SignOutUserPayloadRef = builder.objectRef<{ userId: string; endedSessionCount: number }>('SignOutUserPayload').implement({
  fields: (t) => ({ userId: t.exposeID('userId'), endedSessionCount: t.exposeInt('endedSessionCount') }),
});
builder.mutationField('signOutUser', (t) =>
  t.field({
    type: SignOutUserPayloadRef,
    errors: {},
    authScopes: privileged('admin'),
    description: 'Ends every session and pending login of a user and the trust of their devices (UserSignedOut).',
    args: { input: t.arg({ type: SignOutUserInput, required: true }) },
    resolve: (_root, args, ctx) => signOutUser(ctx.deps, requireAdministrator(ctx.caller), args.input, ctx.request),
  }),
);
