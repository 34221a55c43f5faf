/**
 * SQS over the query protocol: flattened parameters shaped into the JSON protocol's input, and
 * JSON-shaped outputs written as the query protocol's XML, so one set of operations serves both.
 */
import type { QueryTree } from '../../platform/aws/protocols/aws-query.js';
import { textNode, type XmlNode } from '../../platform/aws/protocols/xml.js';
import type { Input } from './sqs-input.js';

/** Query list members and their JSON names. */
const listNames: Record<string, string> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  SendMessageBatchRequestEntry: 'Entries',
  DeleteMessageBatchRequestEntry: 'Entries',
  ChangeMessageVisibilityBatchRequestEntry: 'Entries',
};

/** Query `{Name, Value}` lists and the JSON maps they stand for. */
const mapNames: Record<string, string> = {
  Attribute: 'Attributes',
  MessageAttribute: 'MessageAttributes',
};

export function sqsInputOfQuery(tree: QueryTree): Input {
  const input: Input = {};
  for (const [name, value] of Object.entries(tree)) {
    const list = listNames[name];
    const map = mapNames[name];
    if (list && Array.isArray(value)) {
      input[list] = value.map((v) => (typeof v === 'object' ? sqsInputOfQuery(v) : v));
    } else if (map && Array.isArray(value)) {
      const out: Record<string, unknown> = {};
      for (const entry of value) {
        if (typeof entry !== 'object' || typeof entry.Name !== 'string') continue;
        out[entry.Name] = entry.Value;
      }
      input[map] = out;
    } else {
      input[name] = value;
    }
  }
  return input;
}

/** The XML element names of each operation's batch results. */
const successNames: Record<string, string> = {
  SendMessageBatch: 'SendMessageBatchResultEntry',
  DeleteMessageBatch: 'DeleteMessageBatchResultEntry',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibilityBatchResultEntry',
};

export function sqsQueryResult(action: string, output: Record<string, unknown>): XmlNode[] {
  return Object.entries(output).flatMap(([name, value]) => fieldNodes(action, name, value));
}

function fieldNodes(action: string, name: string, value: unknown): XmlNode[] {
  if (value === undefined) return [];
  switch (name) {
    case 'QueueUrls':
      return (value as string[]).map((url) => ({ name: 'QueueUrl', text: url }));
    case 'Messages':
      return (value as Record<string, unknown>[]).map((m) => ({
        name: 'Message',
        children: Object.entries(m).flatMap(([k, v]) => fieldNodes(action, k, v)),
      }));
    case 'Successful':
      return (value as Record<string, unknown>[]).map((entry) => ({
        name: successNames[action] ?? 'ResultEntry',
        children: Object.entries(entry).flatMap(([k, v]) => fieldNodes(action, k, v)),
      }));
    case 'Failed':
      return (value as Record<string, unknown>[]).map((entry) => ({
        name: 'BatchResultErrorEntry',
        children: Object.entries(entry).flatMap(([k, v]) => fieldNodes(action, k, v)),
      }));
    case 'Attributes':
      return Object.entries(value as Record<string, string>).map(([k, v]) => ({
        name: 'Attribute',
        children: [textNode('Name', k), textNode('Value', v)],
      }));
    case 'MessageAttributes':
      return Object.entries(value as Record<string, Record<string, string>>).map(([k, v]) => ({
        name: 'MessageAttribute',
        children: [
          textNode('Name', k),
          {
            name: 'Value',
            children: [
              textNode('StringValue', v.StringValue),
              textNode('BinaryValue', v.BinaryValue),
              textNode('DataType', v.DataType),
            ],
          },
        ],
      }));
    default:
      return [{ name, text: String(value) }];
  }
}
