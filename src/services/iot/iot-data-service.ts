/**
 * The IoT data-plane Publish API behind the front door (docs/iot.md#publish): `POST
 * /topics/{topic}?qos=0|1&retain=...`, REST-JSON, SigV4 service `iotdata`, as
 * `@aws-sdk/client-iot-data-plane` sends it. The payload goes to the MQTT broker through the
 * platform's own client, so rules and device subscribers see it like any device's message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import { sendRestJson, sendRestJsonError } from '../../platform/aws/protocols/rest-json.js';
import { RequestTooLargeError, readBody } from '../../platform/http/read-body.js';

/** AWS IoT's message size limit. */
export const maxIotPayloadBytes = 128 * 1024;

export interface IotDataServiceOptions {
  verify: RequestVerifier;
  /** Undefined when the platform runs without MQTT. */
  publish:
    | ((topic: string, payload: Buffer, qos: 0 | 1, retain: boolean) => Promise<void>)
    | undefined;
  onError: (error: unknown) => void;
}

function checkTopic(topic: string): void {
  if (topic === '' || Buffer.byteLength(topic) > 256) {
    throw new AwsError(400, 'InvalidRequestException', 'The topic must be 1 to 256 bytes long.');
  }
  if (/[#+\0]/.test(topic)) {
    throw new AwsError(
      400,
      'InvalidRequestException',
      'A topic to publish to has no wildcards (+, #).',
    );
  }
  if (topic.startsWith('$')) {
    throw new AwsError(403, 'ForbiddenException', 'Topics starting with $ are reserved.');
  }
}

export function createIotDataService(opts: IotDataServiceOptions) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    rawQuery: string,
  ): Promise<void> => {
    try {
      const match = /^\/topics\/(.+)$/.exec(path);
      let body: Buffer;
      try {
        body = await readBody(req, maxIotPayloadBytes);
      } catch (error) {
        if (error instanceof RequestTooLargeError) {
          throw new AwsError(
            413,
            'RequestEntityTooLargeException',
            `The payload exceeds ${maxIotPayloadBytes} bytes.`,
          );
        }
        throw error;
      }
      const auth = await opts.verify(req, body);
      if (!auth.ok)
        throw new AwsError(
          auth.type === 'UnrecognizedClientException' ? 401 : 403,
          'UnauthorizedException',
          auth.message,
        );
      if (!match)
        throw new AwsError(
          404,
          'ResourceNotFoundException',
          'Only POST /topics/{topic} is supported.',
        );
      if (req.method !== 'POST')
        throw new AwsError(405, 'MethodNotAllowedException', 'Publish is POST /topics/{topic}.');
      let topic: string;
      try {
        topic = decodeURIComponent(match[1] as string);
      } catch {
        throw new AwsError(400, 'InvalidRequestException', 'The topic is not valid URL encoding.');
      }
      checkTopic(topic);
      const query = new URLSearchParams(rawQuery);
      const qos = query.get('qos') ?? '0';
      if (qos !== '0' && qos !== '1')
        throw new AwsError(400, 'InvalidRequestException', 'qos must be 0 or 1.');
      const retain = query.get('retain') === 'true';
      if (!opts.publish) {
        throw new AwsError(
          503,
          'ServiceUnavailableException',
          'This platform runs without an MQTT broker (see --mqtt-port and --mqtt-url).',
        );
      }
      try {
        await opts.publish(topic, body, qos === '1' ? 1 : 0, retain);
      } catch (error) {
        opts.onError(error);
        throw new AwsError(
          503,
          'ServiceUnavailableException',
          'The MQTT broker did not take the message.',
        );
      }
      sendRestJson(res, 200, {});
    } catch (error) {
      if (!(error instanceof AwsError)) opts.onError(error);
      sendRestJsonError(res, error, 'InternalFailureException');
    }
  };
}
