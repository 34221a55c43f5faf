// Batches from the orders queue: each accepted order is announced on the topic and the bus.
// An order that cannot be processed is reported alone (ReportBatchItemFailures), so the rest of
// its batch is deleted and only it comes back; after 2 receives it lands in the dead letters.
const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');
const { EventBridgeClient, PutEventsCommand } = require('@aws-sdk/client-eventbridge');

const sns = new SNSClient({});
const events = new EventBridgeClient({});

exports.handler = async (event) => {
  const batchItemFailures = [];
  for (const record of event.Records) {
    try {
      const order = JSON.parse(record.body);
      if (order.sku === 'OUT-OF-STOCK') throw new Error(`sku ${order.sku} cannot be shipped`);
      await sns.send(
        new PublishCommand({
          TopicArn: process.env.ORDER_TOPIC_ARN,
          Message: JSON.stringify(order),
          MessageAttributes: { sku: { DataType: 'String', StringValue: order.sku } },
        }),
      );
      const put = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: process.env.ORDERS_BUS,
              Source: 'shop.orders',
              DetailType: 'OrderAccepted',
              Detail: JSON.stringify(order),
            },
          ],
        }),
      );
      if (put.FailedEntryCount) throw new Error(JSON.stringify(put.Entries));
    } catch (error) {
      console.error(`order ${record.messageId} failed: ${error.message}`);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
