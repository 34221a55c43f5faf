import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './001-initial.js';
import { accessKeysMigration } from './002-access-keys.js';
import { logEventsMigration } from './003-log-events.js';
import { workQueueMigration } from './004-work-queue.js';
import { schedulesMigration } from './005-schedules.js';
import { asyncInvocationsMigration } from './006-async-invocations.js';
import { s3Migration } from './007-s3.js';
import { routeAccessMigration } from './008-route-access.js';
import { clusterMigration } from './009-cluster.js';
import { functionUidsMigration } from './010-function-uids.js';
import { dynamodbMigration } from './011-dynamodb.js';
import { metricRollupsMigration } from './012-metric-rollups.js';
import { sqsMigration } from './013-sqs.js';
import { aliasRoutingMigration } from './014-alias-routing.js';
import { stageResourcesMigration } from './015-stage-resources.js';
import { sessionCredentialsMigration } from './016-session-credentials.js';
import { eventSourceMappingsMigration } from './017-event-source-mappings.js';
import { dynamodbExtensionsMigration } from './018-dynamodb-extensions.js';
import { cognitoMigration } from './019-cognito.js';
import { snsMigration } from './021-sns.js';
import { websocketConnectionsMigration } from './022-websocket-connections.js';
import { eventBridgeMigration } from './023-eventbridge.js';
import { streamCheckpointsMigration } from './024-stream-checkpoints.js';
import { logSubscriptionsMigration } from './025-log-subscriptions.js';
import { cognitoSrpMigration } from './026-cognito-srp.js';
import { kinesisMigration } from './027-kinesis.js';
import { layersMigration } from './030-layers.js';
import { workOutboxMigration } from './031-work-outbox.js';
import { s3CorsMigration } from './033-s3-cors.js';
import { s3BucketOwnerMigration } from './034-s3-bucket-owner.js';
import { rateLimitCountersMigration } from './042-rate-limit-counters.js';
import { s3ObjectChunksMigration } from './044-s3-object-chunks.js';
import { resourceOwnersMigration } from './045-resource-owners.js';
import { s3NotificationMigration } from './046-s3-notification.js';
import type { SqlFlavor } from './sql-flavor.js';

export type { SqlFlavor } from './sql-flavor.js';

/**
 * Every migration, in code (no directory scan: the compiled layout must not matter). Names sort
 * in the order they run; never rename or edit one that has shipped, add the next.
 */
export function migrationProvider(flavor: SqlFlavor): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '001-initial': initialMigration(flavor),
    '002-access-keys': accessKeysMigration(),
    '003-log-events': logEventsMigration(flavor),
    '004-work-queue': workQueueMigration(flavor),
    '005-schedules': schedulesMigration(),
    '006-async-invocations': asyncInvocationsMigration(),
    '007-s3': s3Migration(flavor),
    '008-route-access': routeAccessMigration(),
    '009-cluster': clusterMigration(flavor),
    '010-function-uids': functionUidsMigration(),
    '011-dynamodb': dynamodbMigration(flavor),
    '012-metric-rollups': metricRollupsMigration(),
    '013-sqs': sqsMigration(),
    '014-alias-routing': aliasRoutingMigration(),
    '015-stage-resources': stageResourcesMigration(),
    '016-session-credentials': sessionCredentialsMigration(),
    '017-event-source-mappings': eventSourceMappingsMigration(),
    '018-dynamodb-extensions': dynamodbExtensionsMigration(flavor),
    '021-sns': snsMigration(),
    '022-websocket-connections': websocketConnectionsMigration(),
    '019-cognito': cognitoMigration(),
    '026-cognito-srp': cognitoSrpMigration(),
    '025-log-subscriptions': logSubscriptionsMigration(),
    '023-eventbridge': eventBridgeMigration(),
    '024-stream-checkpoints': streamCheckpointsMigration(),
    '033-s3-cors': s3CorsMigration(),
    '031-work-outbox': workOutboxMigration(),
    '027-kinesis': kinesisMigration(flavor),
    '030-layers': layersMigration(),
    '042-rate-limit-counters': rateLimitCountersMigration(flavor),
    '034-s3-bucket-owner': s3BucketOwnerMigration(),
    '044-s3-object-chunks': s3ObjectChunksMigration(flavor),
    '045-resource-owners': resourceOwnersMigration(),
    '046-s3-notification': s3NotificationMigration(),
  };
  return { getMigrations: async () => migrations };
}
