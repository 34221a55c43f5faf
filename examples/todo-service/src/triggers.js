// PreSignUp: confirm everyone at once and count their email as verified, so a new user can sign
// in without a code. Refuse addresses of a domain you do not serve by throwing: the SignUp call
// then fails with "PreSignUp failed with error <message>.".
exports.preSignUp = async (event) => {
  const email = event.request.userAttributes.email ?? '';
  if (email.endsWith('@example.invalid')) throw new Error('this domain cannot sign up');
  event.response.autoConfirmUser = true;
  event.response.autoVerifyEmail = email !== '';
  return event;
};
