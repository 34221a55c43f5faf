interface ProxyEvent {
  pathParameters?: Record<string, string> | null;
}

interface User {
  id: string;
  name: string;
}

function findUser(id: string): User {
  return { id, name: `user-${id}` };
}

// TypeScript is bundled with esbuild at package time; no build step of your own.
export const handler = async (event: ProxyEvent): Promise<{ statusCode: number; body: string }> => {
  const user = findUser(event.pathParameters?.id ?? 'unknown');
  return { statusCode: 200, body: JSON.stringify(user) };
};
