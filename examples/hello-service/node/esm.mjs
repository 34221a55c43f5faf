export const handler = async (event) => {
  const query = event.queryStringParameters ?? {};
  return {
    statusCode: 200,
    body: JSON.stringify({ message: `${process.env.GREETING} from an ES module`, query }),
  };
};
