/** Shared bits of the gateway end-to-end tests. */
import AdmZip from 'adm-zip';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
export const FN = 'arn:aws:lambda:us-east-1:000000000000:function:';

export function zip(files: Record<string, string>): Uint8Array {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}

/** Creates one Node.js function per `name: handler source` (index.handler), as the tests' backends. */
export async function createNodeFunctions(
  lambda: LambdaClient,
  fns: Record<string, string>,
  extra: { Timeout?: number } = {},
): Promise<void> {
  for (const [name, code] of Object.entries(fns))
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip({ 'index.js': code }) },
        ...extra,
      }),
    );
}
