import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TableName = process.env.TODOS_TABLE;

const reply = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function parse(event) {
  try {
    const data = JSON.parse(event.body ?? '');
    return typeof data?.text === 'string' && data.text.length > 0 ? data : undefined;
  } catch {
    return undefined;
  }
}

export async function create(event) {
  const data = parse(event);
  if (!data) return reply(400, { error: 'a to-do needs a text' });
  const now = Date.now();
  const item = { id: randomUUID(), text: data.text, checked: false, createdAt: now, updatedAt: now };
  await db.send(new PutCommand({ TableName, Item: item }));
  return reply(201, item);
}

export async function list() {
  const { Items } = await db.send(new ScanCommand({ TableName }));
  return reply(200, Items.sort((a, b) => a.createdAt - b.createdAt));
}

export async function get(event) {
  const { Item } = await db.send(new GetCommand({ TableName, Key: { id: event.pathParameters.id } }));
  return Item ? reply(200, Item) : reply(404, { error: 'no such to-do' });
}

export async function update(event) {
  const data = parse(event);
  if (!data || typeof data.checked !== 'boolean') {
    return reply(400, { error: 'an update needs a text and checked' });
  }
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName,
        Key: { id: event.pathParameters.id },
        // `text` is a word DynamoDB reserves: aliased, as it must be on AWS.
        UpdateExpression: 'SET #text = :text, checked = :checked, updatedAt = :now',
        ConditionExpression: 'attribute_exists(id)',
        ExpressionAttributeNames: { '#text': 'text' },
        ExpressionAttributeValues: { ':text': data.text, ':checked': data.checked, ':now': Date.now() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return reply(200, Attributes);
  } catch (err) {
    if (err.name === 'ConditionalCheckFailedException') return reply(404, { error: 'no such to-do' });
    throw err;
  }
}

export async function remove(event) {
  await db.send(new DeleteCommand({ TableName, Key: { id: event.pathParameters.id } }));
  return { statusCode: 204 };
}
