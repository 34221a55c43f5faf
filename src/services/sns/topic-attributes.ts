/** Topic attributes: which are settable, their checks, and the ones SNS computes. */
import { snsErrors } from './sns-errors.js';

const settable = new Set([
  'DisplayName',
  'Policy',
  'DeliveryPolicy',
  'FifoTopic',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'SignatureVersion',
  'TracingConfig',
  'ArchivePolicy',
  'FifoThroughputScope',
  'DataProtectionPolicy',
]);

/** 1–256 letters, digits, hyphens and underscores; FIFO names end in `.fifo`. */
export function checkTopicName(name: string, fifo: boolean): void {
  const base = fifo ? name.replace(/\.fifo$/, '') : name;
  if (fifo !== name.endsWith('.fifo')) {
    throw snsErrors.invalidParameter(
      'Topic Name Reason: a FIFO topic name must end with .fifo, and only a FIFO topic name may',
    );
  }
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(base) || name.length > 256) {
    throw snsErrors.invalidParameter(
      'Topic Name Reason: must be 1 to 256 letters, digits, hyphens and underscores',
    );
  }
}

export function checkTopicAttributes(given: Record<string, string>, creating: boolean): void {
  for (const [name, value] of Object.entries(given)) {
    if (!settable.has(name)) throw snsErrors.invalidParameter(`AttributeName Reason: ${name}`);
    if (name === 'FifoTopic' && !creating) {
      throw snsErrors.invalidParameter('AttributeName Reason: FifoTopic cannot be changed');
    }
    if (
      ['FifoTopic', 'ContentBasedDeduplication'].includes(name) &&
      !/^(true|false)$/.test(value)
    ) {
      throw snsErrors.invalidParameter(`Attributes Reason: ${name} must be true or false`);
    }
    if (name === 'DisplayName' && value.length > 100) {
      throw snsErrors.invalidParameter('DisplayName Reason: at most 100 characters');
    }
    if (['Policy', 'DeliveryPolicy', 'ArchivePolicy', 'DataProtectionPolicy'].includes(name)) {
      try {
        JSON.parse(value);
      } catch {
        throw snsErrors.invalidParameter(`Attributes Reason: ${name} is not valid JSON`);
      }
    }
  }
}
