// The one table every DynamoDB bench uses (the scenario, the in-process micro bench and the
// instruction counter), so their figures describe the same calls.
export const BENCH_TABLE = {
  TableName: 'bench',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'N' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

/** The key of item `s` of partition `p`. */
export const benchKey = (p, s) => ({ pk: { S: `user-${p}` }, sk: { N: String(s) } });

/** A small to-do-like item: a string, a boolean and a string set besides the key. */
export const benchItem = (p, s) => ({
  ...benchKey(p, s),
  title: { S: `item ${s} of user ${p}` },
  done: { BOOL: s % 2 === 0 },
  tags: { SS: ['a', 'b'] },
});
