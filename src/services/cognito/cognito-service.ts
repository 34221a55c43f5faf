/**
 * The user-pools service behind the front door: AWS JSON 1.1 calls (`X-Amz-Target:
 * AWSCognitoIdentityProviderService.<Op>`) through the shared codec. The operations a user's
 * app makes (sign-up, sign-in, and what an access token allows) come without SigV4, as the SDK
 * sends them, and are authorised by what they carry (client id, password, code, token);
 * everything else (pool administration, Admin*) needs an access key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import { guardedCall, type OwnerLookup } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import { createAwsJsonHandler } from '../../platform/aws/protocols/aws-json.js';
import * as admin from './admin-operations.js';
import * as auth from './auth-operations.js';
import { cognitoAccessDenied, cognitoAccessRules } from './cognito-access.js';
import type { CognitoDeps, CognitoOperation } from './cognito-call.js';
import * as pools from './pool-operations.js';
import * as signUp from './sign-up-operations.js';
import * as user from './user-operations.js';

export const cognitoTargetPrefix = 'AWSCognitoIdentityProviderService';

/** Called by end users' apps, unsigned. */
const publicOperations: Record<string, CognitoOperation> = {
  SignUp: signUp.signUp,
  ConfirmSignUp: signUp.confirmSignUp,
  ResendConfirmationCode: signUp.resendConfirmationCode,
  ForgotPassword: signUp.forgotPassword,
  ConfirmForgotPassword: signUp.confirmForgotPassword,
  InitiateAuth: auth.initiateAuth,
  RespondToAuthChallenge: auth.respondToAuthChallenge,
  GetUser: user.getUser,
  ChangePassword: user.changePassword,
  UpdateUserAttributes: user.updateUserAttributes,
  GetUserAttributeVerificationCode: user.getUserAttributeVerificationCode,
  VerifyUserAttribute: user.verifyUserAttribute,
  DeleteUser: user.deleteUser,
  GlobalSignOut: user.globalSignOut,
  RevokeToken: user.revokeToken,
};

/** Called with an access key (SigV4, credential scope `cognito-idp`). */
const adminOperations: Record<string, CognitoOperation> = {
  CreateUserPool: pools.createUserPool,
  DescribeUserPool: pools.describeUserPool,
  UpdateUserPool: pools.updateUserPool,
  ListUserPools: pools.listUserPools,
  DeleteUserPool: pools.deleteUserPool,
  CreateUserPoolClient: pools.createUserPoolClient,
  DescribeUserPoolClient: pools.describeUserPoolClient,
  ListUserPoolClients: pools.listUserPoolClients,
  DeleteUserPoolClient: pools.deleteUserPoolClient,
  CreateGroup: pools.createGroup,
  ListGroups: pools.listGroups,
  AdminCreateUser: admin.adminCreateUser,
  AdminGetUser: admin.adminGetUser,
  AdminUpdateUserAttributes: admin.adminUpdateUserAttributes,
  AdminDeleteUser: admin.adminDeleteUser,
  AdminDisableUser: admin.adminDisableUser,
  AdminEnableUser: admin.adminEnableUser,
  AdminSetUserPassword: admin.adminSetUserPassword,
  AdminConfirmSignUp: admin.adminConfirmSignUp,
  AdminUserGlobalSignOut: admin.adminUserGlobalSignOut,
  AdminAddUserToGroup: admin.adminAddUserToGroup,
  AdminListGroupsForUser: admin.adminListGroupsForUser,
  AdminInitiateAuth: auth.adminInitiateAuth,
  AdminRespondToAuthChallenge: auth.adminRespondToAuthChallenge,
  ListUsers: admin.listUsers,
};

export interface CognitoServiceOptions {
  deps: CognitoDeps;
  verify: RequestVerifier;
  /** The shared scope lookup and owner records: a stage's credentials reach its own pools. */
  scopeOf?: CallerScopes;
  owners?: OwnerLookup;
  onError?: (error: unknown) => void;
}

function operationOf(req: IncomingMessage): string {
  const target = String(req.headers['x-amz-target'] ?? '');
  return target.startsWith(`${cognitoTargetPrefix}.`)
    ? target.slice(cognitoTargetPrefix.length + 1)
    : '';
}

export function createCognitoService(opts: CognitoServiceOptions) {
  const guard = opts.owners && { owners: opts.owners, denied: cognitoAccessDenied };
  const rules = cognitoAccessRules(opts.deps.store);
  const handler = createAwsJsonHandler({
    version: '1.1',
    targetPrefix: cognitoTargetPrefix,
    errorNamespace: 'com.amazonaws.cognitoidentityprovider',
    maxBodyBytes: 256 * 1024,
    verify: async (req, body) =>
      Object.hasOwn(publicOperations, operationOf(req))
        ? { ok: true, principal: 'anonymous' }
        : opts.verify(req, body),
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
    dispatch: (operation, input, { req, scope }) => {
      if (Object.hasOwn(publicOperations, operation)) {
        return publicOperations[operation]!({ deps: opts.deps, input, req });
      }
      const run = Object.hasOwn(adminOperations, operation)
        ? adminOperations[operation]
        : undefined;
      if (!run) {
        throw new AwsError(
          400,
          'UnknownOperationException',
          `${operation} is not supported by Nimbus.`,
        );
      }
      const call = () => run({ deps: opts.deps, input, req });
      return guard ? guardedCall(guard, scope, rules[operation], input, call) : call();
    },
  });
  return (req: IncomingMessage, res: ServerResponse): Promise<void> => handler(req, res);
}
