/**
 * The engines of the running services, for cross-service calls (SNS -> SQS, API Gateway ->
 * Lambda, Step Functions -> Lambda, ...). A service calls another only through its engine
 * here, never into its tables. Each service module adds its engine as a field when it lands;
 * app.ts fills them in dependency order.
 */
import type { LambdaEngine } from '../compute/engine.js';
import type { DynamoEngine } from '../data/engine.js';
import type { SqsEngine } from '../messaging/sqs/engine.js';
import type { SnsEngine } from '../messaging/sns/engine.js';
import type { GatewayEngine } from '../gateway/engine.js';
import type { MetricsEngine } from '../monitor/metrics.js';
import type { SchedulesEngine } from '../messaging/schedules/engine.js';
import type { StackEngine } from '../deploy/stacks/engine.js';
import type { S3Engine } from '../s3/engine.js';

export interface Engines {
  lambda: LambdaEngine;
  dynamodb: DynamoEngine;
  sqs: SqsEngine;
  sns: SnsEngine;
  gateway: GatewayEngine;
  /** CloudWatch metrics: `metrics.record(scope, namespace, name, dimensions, value, unit)`. */
  metrics: MetricsEngine;
  schedules: SchedulesEngine;
  /** CloudFormation stacks. */
  deploy: StackEngine;
  /** S3 objects (Lambda code from S3Bucket/S3Key, deployments): see `readObject` in src/s3. */
  s3: S3Engine;
}
