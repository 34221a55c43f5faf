// EventBridge: an accepted order becomes a shipment.
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');

const sqs = new SQSClient({});

exports.handler = async (event) => {
  const order = event.detail;
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.SHIPMENTS_QUEUE_URL,
      MessageBody: JSON.stringify({ orderId: order.orderId, sku: order.sku, from: event.source }),
    }),
  );
};
