/**
 * The sign-in steps' triggers: PreAuthentication before the password is checked (its error
 * refuses the sign-in), PostAuthentication once it is right and before tokens are issued (its
 * error refuses them too, as on AWS). Both run for users that exist only.
 */
import type { CognitoCall } from './cognito-call.js';
import type { ClientRow, PoolRow, UserRow } from './cognito-store.js';
import { stringMap, triggerAttributes } from './triggers.js';

export async function preAuthentication(
  call: CognitoCall,
  pool: PoolRow,
  client: ClientRow,
  user: UserRow,
): Promise<void> {
  await call.deps.triggers.run(pool, 'PreAuthentication', {
    triggerSource: 'PreAuthentication_Authentication',
    userName: user.username,
    clientId: client.id,
    request: {
      userAttributes: triggerAttributes(user),
      validationData: stringMap(call.input.ClientMetadata) ?? {},
      userNotFound: false,
    },
  });
}

export async function postAuthentication(
  call: CognitoCall,
  pool: PoolRow,
  client: ClientRow,
  user: UserRow,
): Promise<void> {
  const metadata = stringMap(call.input.ClientMetadata);
  await call.deps.triggers.run(pool, 'PostAuthentication', {
    triggerSource: 'PostAuthentication_Authentication',
    userName: user.username,
    clientId: client.id,
    request: {
      userAttributes: triggerAttributes(user),
      newDeviceUsed: false,
      ...(metadata ? { clientMetadata: metadata } : {}),
    },
  });
}
