// The example function `npm start` deploys: a greeting that shows what the handler sees.
export const handler = async (event, context) => {
  const name = (event && event.name) || 'world';
  console.log('greeting', name);
  return {
    message: `Hello, ${name}!`,
    functionName: context.functionName,
    requestId: context.awsRequestId,
    memoryLimitInMB: context.memoryLimitInMB,
    node: process.version,
  };
};
