/**
 * Which user pool each SigV4-signed Cognito operation names, for the shared ownership check
 * (platform/auth/resource-access.ts, docs/security.md): a stage's credentials reach their own
 * stage's pools and shared ones. An app client belongs to its pool, so a ClientId names the pool
 * the store says it is in. The public operations (SignUp, InitiateAuth, GetUser with a token...)
 * carry no access key, as on AWS, and have no rule here.
 */
import type { AccessRule, ResourceRef } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import type { CognitoStore } from './cognito-store.js';

export const poolKind = 'AWS::Cognito::UserPool';
type Input = Record<string, unknown>;

/** AccessDeniedException, as Cognito refuses a principal its policy does not allow. */
export function cognitoAccessDenied(): AwsError {
  return new AwsError(
    400,
    'AccessDeniedException',
    'User is not authorized to perform this action on this resource: it belongs to another service stage',
  );
}

const byPool = (input: Input): ResourceRef[] =>
  typeof input.UserPoolId === 'string' && input.UserPoolId !== ''
    ? [{ kind: poolKind, name: input.UserPoolId }]
    : [];

export function cognitoAccessRules(
  store: Pick<CognitoStore, 'findClient'>,
): Record<string, AccessRule<Input, object>> {
  /** The pool named, and the pool of the client named (an unknown client names nothing). */
  const byPoolAndClient = async (input: Input): Promise<ResourceRef[]> => {
    const refs = byPool(input);
    const id = input.ClientId;
    if (typeof id !== 'string' || !/^[\w+]{1,128}$/.test(id)) return refs;
    const client = await store.findClient(id);
    return client && client.poolId !== input.UserPoolId
      ? [...refs, { kind: poolKind, name: client.poolId }]
      : refs;
  };
  const read: AccessRule<Input, object> = { write: false, refs: byPoolAndClient };
  const write: AccessRule<Input, object> = { write: true, refs: byPoolAndClient };
  return {
    CreateUserPool: {
      write: true,
      createsAnswered: (output) => {
        const id = (output as { UserPool?: { Id?: unknown } }).UserPool?.Id;
        return typeof id === 'string' ? { kind: poolKind, name: id } : undefined;
      },
    },
    DescribeUserPool: read,
    UpdateUserPool: write,
    ListUserPools: {
      write: false,
      filter: {
        kind: poolKind,
        keep: (output, reaches) => {
          const pools = (output as { UserPools?: { Id: string }[] }).UserPools ?? [];
          return { ...output, UserPools: pools.filter((pool) => reaches(pool.Id)) };
        },
      },
    },
    DeleteUserPool: { write: true, refs: byPool, deletes: true },
    CreateUserPoolClient: write,
    DescribeUserPoolClient: read,
    ListUserPoolClients: read,
    DeleteUserPoolClient: write,
    CreateGroup: write,
    ListGroups: read,
    AdminCreateUser: write,
    AdminGetUser: read,
    AdminUpdateUserAttributes: write,
    AdminDeleteUser: write,
    AdminDisableUser: write,
    AdminEnableUser: write,
    AdminSetUserPassword: write,
    AdminConfirmSignUp: write,
    AdminUserGlobalSignOut: write,
    AdminAddUserToGroup: write,
    AdminListGroupsForUser: read,
    // Signing a user in issues tokens and sessions (and counts failures): a write.
    AdminInitiateAuth: write,
    AdminRespondToAuthChallenge: write,
    ListUsers: read,
  };
}
