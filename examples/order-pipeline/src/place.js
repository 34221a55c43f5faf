// POST /orders: checks the order and queues it; the rest of the pipeline runs from the queue.
const { randomUUID } = require('node:crypto');
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');

const sqs = new SQSClient({});

exports.handler = async (event) => {
  let order;
  try {
    order = JSON.parse(event.body ?? '');
  } catch {
    return { statusCode: 400, body: JSON.stringify({ message: 'the body is not JSON' }) };
  }
  if (typeof order?.sku !== 'string' || !Number.isInteger(order.quantity) || order.quantity < 1) {
    return { statusCode: 400, body: JSON.stringify({ message: 'an order needs sku and quantity' }) };
  }
  const orderId = randomUUID();
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.ORDERS_QUEUE_URL,
      MessageBody: JSON.stringify({ orderId, sku: order.sku, quantity: order.quantity }),
    }),
  );
  return { statusCode: 202, body: JSON.stringify({ orderId }) };
};
