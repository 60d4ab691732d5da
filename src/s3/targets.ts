/**
 * Event notification destinations through the target services' engines: a Lambda function
 * (asynchronous invoke, so async retries, DLQ and destinations apply), an SQS queue
 * (SendMessage) or an SNS topic (Publish, subject "Amazon S3 Notification").
 *
 * Checks as S3 makes them when a configuration is put: the function must exist and its
 * resource policy must let `s3.amazonaws.com` invoke it (SourceAccount / SourceArn conditions
 * honoured); queues and topics must exist (their access policies are not evaluated).
 */
import { createHash } from 'node:crypto';
import type { FunctionPolicies } from '../compute/extras-api.js';
import { policyAllowsService } from '../compute/policy.js';
import type { LambdaEngine } from '../compute/engine.js';
import type { SqsEngine } from '../messaging/sqs/engine.js';
import type { SnsEngine } from '../messaging/sns/engine.js';
import type { SchedulesEngine } from '../messaging/schedules/engine.js';
import type { NotificationTargets } from './engine.js';
import type { BucketRecord } from './model.js';

export interface TargetEngines {
  lambda: LambdaEngine;
  policies: FunctionPolicies;
  sqs: SqsEngine;
  sns: SnsEngine;
  events: SchedulesEngine;
}

export const NOTIFICATION_SUBJECT = 'Amazon S3 Notification';

/** `arn:aws:<svc>:<region>:<account>:...` -> the scope to call the target service as. */
function scopeOfArn(arn: string): { accountId: string; region: string } {
  const [, , , region, accountId] = arn.split(':');
  return { accountId: accountId ?? '', region: region ?? '' };
}

/** True when one Allow statement of the policy lets S3 invoke the function for this bucket. */
export function policyAllowsS3(statements: Record<string, unknown>[], bucket: BucketRecord): boolean {
  return policyAllowsService(statements, 's3.amazonaws.com', {
    account: bucket.owner,
    arn: `arn:aws:s3:::${bucket.name}`,
  });
}

/**
 * A Lambda request id (UUID-shaped) derived from the notification's id: stable across
 * redeliveries, and never the notification job's own id (job ids share one namespace).
 */
export function requestIdFor(notificationId: string): string {
  const h = createHash('sha256').update(`s3-notification:${notificationId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function engineTargets(engines: () => TargetEngines): NotificationTargets {
  return {
    async check(type, arn, bucket) {
      const e = engines();
      const scope = scopeOfArn(arn);
      if (type === 'lambda') {
        const denied = `Not authorized to invoke function [${arn}]`;
        if (!/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/.test(arn)) return denied;
        try {
          const { Policy } = await e.policies.get(scope, arn, undefined);
          const doc = JSON.parse(Policy) as { Statement?: Record<string, unknown>[] };
          return policyAllowsS3(doc.Statement ?? [], bucket) ? undefined : denied;
        } catch {
          // No such function, or no policy at all.
          return denied;
        }
      }
      if (type === 'queue') {
        try {
          await e.sqs.getQueue(scope, arn);
          return undefined;
        } catch {
          return 'The destination queue does not exist';
        }
      }
      try {
        await e.sns.getTopic(arn);
        return undefined;
      } catch {
        return 'The destination topic does not exist';
      }
    },

    async deliver(type, arn, message, id) {
      const e = engines();
      const scope = scopeOfArn(arn);
      if (type === 'lambda') {
        // The notification's id as the request id: a redelivery after a crash is one invoke.
        await e.lambda.invoke(scope, {
          FunctionName: arn,
          InvocationType: 'Event',
          Payload: Buffer.from(message),
          RequestId: requestIdFor(id),
        });
      } else if (type === 'queue') {
        await e.sqs.sendMessage(scope, arn, { body: message });
      } else if (type === 'eventbridge') {
        const out = await e.events.putEvents(scope, [JSON.parse(message)], { fromService: true });
        if (out.FailedEntryCount > 0)
          throw new Error(`EventBridge refused the event: ${JSON.stringify(out.Entries)}`);
      } else {
        await e.sns.publish(scope, arn, { message, subject: NOTIFICATION_SUBJECT });
      }
    },
  };
}
