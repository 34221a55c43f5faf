import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';

/** The JetStream server the tests use (.ci/run starts it); NIMBUS_TEST_NATS_URL overrides. */
export const testNatsUrl = process.env.NIMBUS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: testNatsUrl, name: 'nimbus-test' });
}

/** A stream prefix of its own per test: no test sees another's streams. */
export function uniqueNatsPrefix(): string {
  return `t${randomBytes(6).toString('hex')}`;
}
