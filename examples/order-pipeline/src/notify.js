// SNS fan-out: one notification per accepted order.
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');

const sqs = new SQSClient({});

exports.handler = async (event) => {
  for (const record of event.Records) {
    const order = JSON.parse(record.Sns.Message);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: process.env.NOTIFICATIONS_QUEUE_URL,
        MessageBody: JSON.stringify({
          orderId: order.orderId,
          text: `order ${order.orderId}: ${order.quantity} x ${order.sku} accepted`,
        }),
      }),
    );
  }
};
