'use strict';

// Module state survives between invocations of one instance, as on Lambda.
let calls = 0;

exports.handler = async (event, context) => {
  calls += 1;
  console.log('cjs handler called', calls);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      message: `${process.env.GREETING} from CommonJS`,
      calls,
      requestId: context.awsRequestId,
    }),
  };
};
