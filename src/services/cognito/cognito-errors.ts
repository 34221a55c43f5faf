/** Cognito's error types with the messages Cognito gives (what SDK callers match on). */
import { AwsError } from '../../platform/aws/aws-error.js';

const bad = (code: string, message: string) => new AwsError(400, code, message);

export const cognitoErrors = {
  invalidParameter: (message: string) => bad('InvalidParameterException', message),
  poolNotFound: (id: string) => bad('ResourceNotFoundException', `User pool ${id} does not exist.`),
  clientNotFound: (id: string) =>
    bad('ResourceNotFoundException', `User pool client ${id} does not exist.`),
  groupNotFound: () => bad('ResourceNotFoundException', 'Group not found.'),
  groupExists: (name: string) =>
    bad('GroupExistsException', `A group with the name ${name} already exists.`),
  userNotFound: () => bad('UserNotFoundException', 'User does not exist.'),
  usernameExists: () => bad('UsernameExistsException', 'User already exists'),
  notAuthorized: (message = 'Incorrect username or password.') =>
    bad('NotAuthorizedException', message),
  userNotConfirmed: () => bad('UserNotConfirmedException', 'User is not confirmed.'),
  codeMismatch: () =>
    bad('CodeMismatchException', 'Invalid verification code provided, please try again.'),
  expiredCode: () =>
    bad('ExpiredCodeException', 'Invalid code provided, please request a code again.'),
  invalidPassword: (why: string) =>
    bad('InvalidPasswordException', `Password did not conform with policy: ${why}`),
  passwordResetRequired: () =>
    bad('PasswordResetRequiredException', 'Password reset required for the user'),
  limitExceeded: () =>
    bad('LimitExceededException', 'Attempt limit exceeded, please try after some time.'),
  tooManyRequests: () => bad('TooManyRequestsException', 'Rate exceeded'),
  aliasExists: () => bad('AliasExistsException', 'An account with the given email already exists.'),
  unsupported: (what: string) =>
    bad('InvalidParameterException', `${what} is not supported by Nimbus.`),
};
