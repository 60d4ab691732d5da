/**
 * `nimbus up --example` (what `npm start` runs): deploys the example app, Nimbus Notes
 * (examples/app/template.yaml, one SAM template), exactly as `nimbus deploy` would: built with
 * esbuild, uploaded to S3, deployed through the CloudFormation API. Prints the URLs to open.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { deployStack, type DeployResult } from '../deploy/cli/index.js';
import type { Nimbus } from '../server/app.js';

export const EXAMPLE_STACK = 'nimbus-notes';

export function exampleDir(): string {
  // dist/src/cli/example.js -> repo root is three levels up; src/cli/example.ts -> two.
  for (const up of ['../../..', '../..']) {
    const dir = fileURLToPath(new URL(`${up}/examples/app`, import.meta.url));
    if (existsSync(join(dir, 'template.yaml'))) return dir;
  }
  throw new Error('examples/app not found next to the Nimbus installation');
}

export async function deployExample(
  nimbus: Pick<Nimbus, 'endpoint' | 'config'>,
  out: (line: string) => void,
): Promise<DeployResult> {
  // Dev mode accepts any key; a strict-mode server needs a configured one.
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'nimbus-example',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'nimbus-example',
  };
  out(`Deploying the example app (stack ${EXAMPLE_STACK}, examples/app/template.yaml) ...`);
  const result = await deployStack({
    templateFile: join(exampleDir(), 'template.yaml'),
    stackName: EXAMPLE_STACK,
    endpoint: nimbus.endpoint,
    region: nimbus.config.region,
    credentials,
    onEvent: (line) => out(`  ${line}`),
  });
  const output = (key: string) => result.Outputs.find((o) => o.OutputKey === key)?.OutputValue ?? '';
  const functions = await stackFunctions(nimbus, credentials);
  const web = output('WebUrl');
  out('');
  out(`Nimbus Notes is running. Open ${web} in a browser, or try:`);
  out(`  curl -s -X POST ${web}notes -d '{"title":"Hello","text":"my first note"}'`);
  out(`  curl -s ${web}notes`);
  out(`  curl -s ${web}stats`);
  for (const [logical, name] of functions) {
    out(`  npx nimbus logs ${name} --endpoint ${nimbus.endpoint}    # ${logical}'s logs`);
  }
  out(`  npx nimbus stacks --endpoint ${nimbus.endpoint}`);
  return result;
}

/** The stack's functions: logical id -> function name. */
async function stackFunctions(
  nimbus: Pick<Nimbus, 'endpoint' | 'config'>,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<[string, string][]> {
  const cfn = new CloudFormationClient({
    endpoint: nimbus.endpoint,
    region: nimbus.config.region,
    credentials,
  });
  try {
    const r = await cfn.send(new ListStackResourcesCommand({ StackName: EXAMPLE_STACK }));
    return (r.StackResourceSummaries ?? [])
      .filter((s) => s.ResourceType === 'AWS::Lambda::Function' && s.PhysicalResourceId)
      .map((s) => [s.LogicalResourceId!, s.PhysicalResourceId!]);
  } finally {
    cfn.destroy();
  }
}
