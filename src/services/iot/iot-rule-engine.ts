/**
 * The platform's own MQTT client (docs/iot.md): it subscribes to every enabled `iot` rule's
 * topic filter and hands each matching message's selected document to the AsyncInvoker; the
 * IoT data-plane Publish API publishes through it too. The session is persistent (clean: false,
 * a stable client id per node) and subscriptions are QoS 1, and a message is acknowledged only
 * once its invocations are durably accepted: a broker that keeps sessions (Mosquitto with
 * persistence) redelivers what was published while the platform was down or crashed mid-way.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { evaluateIotSql, type IotSqlStatement } from './iot-sql.js';

export interface IotRule {
  /** Deployed function name and the qualifier it is invoked with (the stage). */
  functionName: string;
  qualifier: string;
  statement: IotSqlStatement;
  label: string;
}

export interface IotRuleEngineOptions {
  /** `mqtt://`, `mqtts://`, `ws://`...; credentials may be in the URL. Resolved at start. */
  url: () => string;
  clientId: string;
  /** Extra connect options: credentials for the embedded broker, TLS files. */
  connect?: IClientOptions;
  accept: (functionName: string, qualifier: string, event: string) => Promise<unknown>;
  /**
   * An external broker shared by the nodes of a cluster: the rules subscribe as members of the
   * MQTT shared subscription `$share/<group>/<filter>`, so the broker hands each message to one
   * node (Mosquitto: MQTT 5 and 3.1.1 alike).
   */
  shareGroup?: string;
  /** The embedded broker: who published a message (IoT SQL `clientid()`). */
  publisherOf?: (topic: string, payload: Buffer) => string | undefined;
  clock: { now(): number };
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export class IotRuleEngine {
  readonly #o: IotRuleEngineOptions;
  readonly #rulesByStage = new Map<string, IotRule[]>();
  readonly #subscribed = new Set<string>();
  #client: MqttClient | undefined;

  constructor(options: IotRuleEngineOptions) {
    this.#o = options;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  /** The topic filters the broker has acknowledged subscriptions to (without `$share/`). */
  get subscribed(): string[] {
    return [...this.#subscribed].sort();
  }

  /** Replaces one stage's rules (a reconciler reaction); subscriptions follow when connected. */
  async setRules(stage: string, rules: IotRule[]): Promise<void> {
    if (rules.length === 0) this.#rulesByStage.delete(stage);
    else this.#rulesByStage.set(stage, rules);
    if (this.#client?.connected) await this.#syncSubscriptions(this.#client);
  }

  #filters(): Set<string> {
    const out = new Set<string>();
    for (const rules of this.#rulesByStage.values()) {
      for (const r of rules) out.add(r.statement.topicFilter);
    }
    return out;
  }

  async #syncSubscriptions(client: MqttClient): Promise<void> {
    const wanted = this.#filters();
    const add = [...wanted].filter((f) => !this.#subscribed.has(f));
    const drop = [...this.#subscribed].filter((f) => !wanted.has(f));
    const group = this.#o.shareGroup;
    const shared = (f: string) => (group ? `$share/${group}/${f}` : f);
    if (add.length > 0) {
      await client.subscribeAsync(add.map(shared), { qos: 1 });
      // A session kept from before shared subscriptions would still hold the plain ones.
      if (group) await client.unsubscribeAsync(add);
      for (const f of add) this.#subscribed.add(f);
    }
    if (drop.length > 0) {
      await client.unsubscribeAsync(drop.map(shared));
      for (const f of drop) this.#subscribed.delete(f);
    }
  }

  async start(): Promise<void> {
    const client = mqtt.connect(this.#o.url(), {
      ...this.#o.connect,
      clientId: this.#o.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    this.#client = client;
    // The broker's puback waits for this callback: only accepted messages are acknowledged.
    client.handleMessage = (packet, done) => {
      this.#deliver(packet.topic, Buffer.from(packet.payload)).then(
        () => done(),
        (error: unknown) => {
          this.#o.logger.error(
            { err: error, topic: packet.topic },
            'iot rule delivery failed; the broker will redeliver',
          );
          // No puback: drop the connection so the broker sends the message again on reconnect.
          client.stream.destroy();
        },
      );
    };
    client.on('connect', (ack) => {
      // A new session (first start, or a broker that lost it) has no subscriptions yet.
      if (!ack.sessionPresent) this.#subscribed.clear();
      this.#syncSubscriptions(client).catch((error: unknown) =>
        this.#o.logger.error({ err: error }, 'subscribing to iot rule topics failed'),
      );
    });
    client.on('error', (error) => this.#o.logger.warn({ err: error }, 'MQTT client error'));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        client.off('connect', onConnect);
        client.end(true);
        reject(new Error(`cannot connect to the MQTT broker: ${error.message}`));
      };
      const onConnect = () => {
        client.off('error', onError);
        resolve();
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
  }

  async #deliver(topic: string, payload: Buffer): Promise<void> {
    const clientId = this.#o.publisherOf?.(topic, payload);
    const message = {
      topic,
      payload,
      timestamp: this.#o.clock.now(),
      ...(clientId === undefined ? {} : { clientId }),
    };
    for (const rules of [...this.#rulesByStage.values()]) {
      for (const rule of rules) {
        const doc = evaluateIotSql(rule.statement, message);
        if (doc === undefined) continue;
        await this.#o.accept(rule.functionName, rule.qualifier, JSON.stringify(doc));
      }
    }
  }

  /** Publishes for the data-plane API; resolves once the broker has it (QoS 1: its puback). */
  async publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): Promise<void> {
    const client = this.#client;
    if (!client?.connected) throw new Error('the MQTT broker is not connected');
    await client.publishAsync(topic, payload, { qos, retain });
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#subscribed.clear();
    if (client) await client.endAsync(false);
  }
}
