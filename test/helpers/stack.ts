/** Deploys a template through the CloudFormation API, as the end-to-end tests of templates do. */
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  waitUntilStackCreateComplete,
} from '@aws-sdk/client-cloudformation';

/** Creates the stack (SAM templates too), waits for CREATE_COMPLETE, and answers its resources and outputs. */
export async function deployStack(cfn: CloudFormationClient, name: string, template: string) {
  await cfn.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: template,
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'],
    }),
  );
  await waitUntilStackCreateComplete(
    { client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { StackName: name },
  );
  const res = await cfn.send(new DescribeStackResourcesCommand({ StackName: name }));
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0];
  const find = (id: string) => res.StackResources!.find((r) => r.LogicalResourceId === id)!;
  return {
    phys: (id: string) => find(id).PhysicalResourceId!,
    type: (id: string) => find(id).ResourceType,
    output: (key: string) => stack.Outputs!.find((o) => o.OutputKey === key)!.OutputValue!,
  };
}
