// User pool triggers (cognitoUserPool events). No endpoint, region or credentials in code: the
// platform's environment supplies them, as Lambda's does.
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');

const db = new DynamoDBClient({});
const table = process.env.TODOS_TABLE;

// PreSignUp: refuse addresses of a domain you do not serve by throwing; the SignUp call then
// fails with "PreSignUp failed with error <message>.". Everyone else confirms with the emailed code.
exports.preSignUp = async (event) => {
  const email = event.request.userAttributes.email ?? '';
  if (email.endsWith('@example.invalid')) throw new Error('this domain cannot sign up');
  return event;
};

// PostConfirmation: the user confirmed their address; write their profile row once.
exports.postConfirmation = async (event) => {
  if (event.triggerSource !== 'PostConfirmation_ConfirmSignUp') return event;
  const { sub, email } = event.request.userAttributes;
  try {
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          owner: { S: `profile:${sub}` },
          id: { S: 'profile' },
          email: { S: email ?? '' },
          confirmedAt: { N: String(Date.now()) },
        },
        ConditionExpression: 'attribute_not_exists(#o)',
        ExpressionAttributeNames: { '#o': 'owner' },
      }),
    );
  } catch (error) {
    if (error.name !== 'ConditionalCheckFailedException') throw error;
  }
  return event;
};
