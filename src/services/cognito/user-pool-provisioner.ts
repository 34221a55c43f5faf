/**
 * `AWS::Cognito::UserPool` and `AWS::Cognito::UserPoolClient` for `resources.Resources`, against
 * the fixed provisioner contract. Ids are derived from the stage and logical id (so `Ref` and
 * `Fn::GetAtt` resolve before anything exists, and redeploying finds the same pool): pool
 * `<region>_<9 chars>`, client 26 lower-case characters.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import { sealSecret } from '../../platform/auth/secret-box.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import {
  type ProvisionedResource,
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceProvisioner,
  type ResourceScope,
} from '../../platform/aws/resources/provisioner.js';
import { poolArn } from './cognito-call.js';
import type { CognitoStore } from './cognito-store.js';
import { clientConfigOf, clientSettings, poolConfigOf } from './pool-operations.js';
import type { TokenKeys } from './token-keys.js';
import { issuerOf } from './tokens.js';

export interface UserPoolProvisionerDeps {
  store: CognitoStore;
  keys: TokenKeys;
  masterKey: Buffer;
  clock: Clock;
}

/** CloudFormation properties of a pool, as CreateUserPool takes them (PoolName aside). */
const poolProperties = new Set([
  'UserPoolName',
  'UsernameAttributes',
  'AliasAttributes',
  'AutoVerifiedAttributes',
  'Policies',
  'Schema',
  'MfaConfiguration',
  'AccountRecoverySetting',
  'UsernameConfiguration',
  'AdminCreateUserConfig',
  'EmailVerificationMessage',
  'EmailVerificationSubject',
  'VerificationMessageTemplate',
  'DeletionProtection',
  'UserPoolTags',
  'LambdaConfig',
  // Only `From` is used (by SMTP delivery); SMS goes to the outbox (docs/cognito.md).
  'EmailConfiguration',
  'SmsConfiguration',
  'UserPoolAddOns',
]);

const clientProperties = new Set<string>([
  'UserPoolId',
  'ClientName',
  'GenerateSecret',
  ...clientSettings,
]);

const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const lowerAlnum = 'abcdefghijklmnopqrstuvwxyz0123456789';

function derivedId(scope: ResourceScope, logicalId: string, alphabet: string, length: number) {
  const digest = createHash('sha256')
    .update(`${scope.service}\u0000${scope.stage}\u0000${scope.region}\u0000${logicalId}`)
    .digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[digest[i]! % alphabet.length];
  return out;
}

function checkKnown(decl: ResourceDeclaration, known: Set<string>): void {
  for (const key of Object.keys(decl.properties)) {
    if (!known.has(key)) {
      throw new ResourcePropertyError(
        decl.logicalId,
        `Properties.${key}`,
        `${decl.type} property ${key} is not supported by Nimbus user pools`,
      );
    }
  }
}

/** Runs a config check of the API, reporting its message against the resource. */
function asProperty<T>(decl: ResourceDeclaration, property: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof AwsError) {
      throw new ResourcePropertyError(decl.logicalId, property, error.message);
    }
    throw error;
  }
}

function poolConfig(decl: ResourceDeclaration): { name: string; config: Record<string, unknown> } {
  checkKnown(decl, poolProperties);
  const props = decl.properties;
  const name = props.UserPoolName ?? decl.logicalId;
  if (typeof name !== 'string' || name === '' || name.length > 128) {
    throw new ResourcePropertyError(
      decl.logicalId,
      'Properties.UserPoolName',
      'must be a string of 1 to 128 characters',
    );
  }
  const { UserPoolName: _n, SmsConfiguration: _s, UserPoolAddOns: _a, ...rest } = props;
  return { name, config: asProperty(decl, 'Properties', () => poolConfigOf(rest)) };
}

export function userPoolProvisioner(deps: UserPoolProvisionerDeps): ResourceProvisioner {
  const attributes = (scope: ResourceScope, decl: ResourceDeclaration) => {
    poolConfig(decl);
    const id = `${scope.region}_${derivedId(scope, decl.logicalId, alnum, 9)}`;
    const url = issuerOf(scope.platformUrl, id);
    return {
      ref: id,
      physicalId: id,
      attributes: {
        Arn: poolArn(scope.region, id),
        ProviderURL: url,
        ProviderName: url.replace(/^https?:\/\//, ''),
        UserPoolId: id,
      },
    };
  };
  return {
    type: 'AWS::Cognito::UserPool',
    attributes,
    async apply(scope, decl) {
      const attrs = attributes(scope, decl);
      const { name, config } = poolConfig(decl);
      const now = deps.clock.now();
      const existing = await deps.store.findPool(attrs.physicalId);
      if (existing) {
        await deps.store.updatePool(existing.id, name, config, now);
      } else {
        await deps.store.insertPool({
          id: attrs.physicalId,
          name,
          config,
          createdAt: now,
          modifiedAt: now,
        });
      }
      if ((await deps.store.listKeys(attrs.physicalId)).length === 0) {
        await deps.keys.rotate(attrs.physicalId);
      }
      return { ...attrs, logicalId: decl.logicalId, type: decl.type, properties: decl.properties };
    },
    async remove(_scope, resource: ProvisionedResource) {
      await deps.store.deletePool(resource.physicalId);
      deps.keys.forget(resource.physicalId);
      return { removed: true };
    },
  };
}

function clientConfig(decl: ResourceDeclaration) {
  checkKnown(decl, clientProperties);
  const props = decl.properties;
  const poolId = props.UserPoolId;
  if (typeof poolId !== 'string' || poolId === '') {
    throw new ResourcePropertyError(
      decl.logicalId,
      'Properties.UserPoolId',
      'is required (e.g. Ref: the pool)',
    );
  }
  const name = props.ClientName ?? decl.logicalId;
  if (typeof name !== 'string' || name === '' || name.length > 128) {
    throw new ResourcePropertyError(
      decl.logicalId,
      'Properties.ClientName',
      'must be a string of 1 to 128 characters',
    );
  }
  const config = asProperty(decl, 'Properties', () => clientConfigOf(props));
  return { poolId, name, config, secret: props.GenerateSecret === true };
}

export function userPoolClientProvisioner(deps: UserPoolProvisionerDeps): ResourceProvisioner {
  const attributes = (scope: ResourceScope, decl: ResourceDeclaration) => {
    const { name } = clientConfig(decl);
    const id = derivedId(scope, decl.logicalId, lowerAlnum, 26);
    return { ref: id, physicalId: id, attributes: { ClientId: id, Name: name } };
  };
  return {
    type: 'AWS::Cognito::UserPoolClient',
    attributes,
    async apply(scope, decl) {
      const attrs = attributes(scope, decl);
      const { poolId, name, config, secret } = clientConfig(decl);
      if (!(await deps.store.findPool(poolId))) {
        throw new ResourcePropertyError(
          decl.logicalId,
          'Properties.UserPoolId',
          `user pool ${poolId} does not exist`,
        );
      }
      const now = deps.clock.now();
      const existing = await deps.store.findClient(attrs.physicalId);
      if (existing && existing.poolId === poolId && Boolean(existing.sealedSecret) === secret) {
        await deps.store.updateClient(existing.id, name, config, now);
      } else {
        // Moving pools or adding/dropping the secret replaces the client, as CloudFormation does.
        if (existing) await deps.store.deleteClient(existing.id);
        const value = secret ? randomBytes(38).toString('base64url').slice(0, 51) : undefined;
        await deps.store.insertClient({
          id: attrs.physicalId,
          poolId,
          name,
          ...(value ? { sealedSecret: sealSecret(deps.masterKey, value, attrs.physicalId) } : {}),
          config,
          createdAt: now,
          modifiedAt: now,
        });
      }
      return { ...attrs, logicalId: decl.logicalId, type: decl.type, properties: decl.properties };
    },
    async remove(_scope, resource) {
      await deps.store.deleteClient(resource.physicalId);
      return { removed: true };
    },
  };
}
