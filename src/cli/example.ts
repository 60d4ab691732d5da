/**
 * `nimbus up --example` (what `npm start` runs): deploys the bundled example function
 * `hello` from examples/hello through the real Lambda API, and prints how to call it.
 * The deployment issue replaces this with the example app's SAM template.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';
import {
  CreateFunctionCommand,
  LambdaClient,
  ResourceConflictException,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import type { Nimbus } from '../server/app.js';

export const EXAMPLE_FUNCTION = 'hello';

function exampleDir(): string {
  // dist/src/cli/example.js -> repo root is three levels up; src/cli/example.ts -> two.
  for (const up of ['../../..', '../..']) {
    const dir = fileURLToPath(new URL(`${up}/examples/hello`, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error('examples/hello not found next to the Nimbus installation');
}

function zipDir(dir: string): Buffer {
  const zip = new AdmZip();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else zip.addFile(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return zip.toBuffer();
}

export async function deployExample(nimbus: Nimbus, out: (line: string) => void): Promise<void> {
  const client = new LambdaClient({
    endpoint: nimbus.endpoint,
    region: nimbus.config.region,
    credentials: { accessKeyId: 'nimbus-example', secretAccessKey: 'nimbus-example' },
  });
  const code = zipDir(exampleDir());
  try {
    await client.send(
      new CreateFunctionCommand({
        FunctionName: EXAMPLE_FUNCTION,
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/nimbus-example',
        Handler: 'index.handler',
        Code: { ZipFile: code },
        Description: 'The Nimbus example function',
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceConflictException)) throw e;
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: EXAMPLE_FUNCTION, ZipFile: code }));
  } finally {
    client.destroy();
  }
  out(`Example function "${EXAMPLE_FUNCTION}" deployed. Try:`);
  out(`  npx nimbus invoke ${EXAMPLE_FUNCTION} --payload '{"name":"Nimbus"}' --endpoint ${nimbus.endpoint}`);
  out(`  AWS_ENDPOINT_URL=${nimbus.endpoint} aws lambda invoke --function-name ${EXAMPLE_FUNCTION} out.json`);
}
