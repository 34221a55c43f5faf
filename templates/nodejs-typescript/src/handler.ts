interface HttpEvent {
  rawPath?: string;
  queryStringParameters?: Record<string, string>;
}

interface HttpResult {
  statusCode: number;
  body: string;
}

export const hello = async (event: HttpEvent): Promise<HttpResult> => {
  const name = event.queryStringParameters?.name ?? 'world';
  return {
    statusCode: 200,
    body: JSON.stringify({ message: `Hello, ${name}, from Nimbus and TypeScript!` }),
  };
};
