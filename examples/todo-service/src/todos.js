// The to-dos of the signed-in user: the JWT authorizer has checked the token, and its claims
// (sub, email, ...) arrive in requestContext.authorizer.jwt.claims. No endpoint, region or
// credentials in code: the platform's environment supplies them.
const { randomUUID } = require('node:crypto');
const {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} = require('@aws-sdk/client-dynamodb');

const db = new DynamoDBClient({});
const table = process.env.TODOS_TABLE;

const ownerOf = (event) => event.requestContext.authorizer.jwt.claims.sub;
const json = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

exports.list = async (event) => {
  const out = await db.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': 'owner' },
      ExpressionAttributeValues: { ':o': { S: ownerOf(event) } },
    }),
  );
  return json(200, {
    todos: (out.Items ?? []).map((i) => ({ id: i.id.S, title: i.title.S, done: i.done.BOOL })),
  });
};

exports.create = async (event) => {
  let title;
  try {
    title = JSON.parse(event.body ?? '{}').title;
  } catch {
    return json(400, { message: 'the body must be JSON' });
  }
  if (typeof title !== 'string' || title === '' || title.length > 200) {
    return json(400, { message: 'title must be 1 to 200 characters' });
  }
  const todo = { id: randomUUID(), title, done: false };
  await db.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        owner: { S: ownerOf(event) },
        id: { S: todo.id },
        title: { S: title },
        done: { BOOL: false },
      },
    }),
  );
  return json(201, todo);
};

// The profile row the PostConfirmation trigger wrote when the user confirmed.
exports.profile = async (event) => {
  const out = await db.send(
    new GetItemCommand({
      TableName: table,
      Key: { owner: { S: `profile:${ownerOf(event)}` }, id: { S: 'profile' } },
    }),
  );
  if (!out.Item) return json(404, { message: 'no profile yet' });
  return json(200, { email: out.Item.email.S, confirmedAt: Number(out.Item.confirmedAt.N) });
};
