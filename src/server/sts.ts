/**
 * AWS STS over the Query protocol (version 2011-06-15): GetCallerIdentity, and temporary
 * credentials (GetSessionToken, AssumeRole) minted by Auth, so SDK code that assumes a role
 * keeps working. A role can only be assumed inside the caller's own account: accounts are
 * tenants here, and crossing them would break their isolation.
 */
import type { QueryService } from './service.js';
import type { Auth } from './auth.js';
import { AwsError } from '../protocols/errors.js';
import { parseArn } from '../core/ids.js';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

const validation = (message: string) => new AwsError('ValidationError', message, 400);

function duration(value: unknown, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw validation(
      `1 validation error detected: Value '${String(value)}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  }
  if (n > max) {
    throw validation(
      `1 validation error detected: Value '${String(value)}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return n;
}

function required(input: Record<string, unknown>, name: string, field: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') {
    throw validation(
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

export function createStsService(auth: Auth): QueryService {
  return {
    protocol: 'query',
    signingName: 'sts',
    version: '2011-06-15',
    xmlNamespace: STS_XMLNS,
    operations: {
      // Element order follows AWS's reply: Arn, UserId, Account.
      GetCallerIdentity: async (ctx) => {
        const p = auth.principalFor(ctx.accessKeyId, ctx.accountId);
        return { Arn: p.arn, UserId: p.userId, Account: p.accountId };
      },
      GetSessionToken: async (ctx, input) => {
        const seconds = duration(input.DurationSeconds, 900, 129_600, 43_200);
        const c = auth.issueCredentials(ctx.accountId, {
          ttlMs: seconds * 1000,
          roleName: 'session',
          sessionName: 'session',
        });
        return {
          Credentials: {
            AccessKeyId: c.accessKeyId,
            SecretAccessKey: c.secretAccessKey,
            SessionToken: c.sessionToken,
            Expiration: c.expiration,
          },
        };
      },
      AssumeRole: async (ctx, input) => {
        const roleArn = required(input, 'RoleArn', 'roleArn');
        const sessionName = required(input, 'RoleSessionName', 'roleSessionName');
        if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
          throw validation(
            `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
          );
        }
        const arn = parseArn(roleArn);
        const role =
          arn && arn.service === 'iam' ? /^role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn.resource) : null;
        if (!arn || !role) throw validation(`${roleArn} is invalid`);
        if (arn.account !== ctx.accountId) {
          const caller = auth.principalFor(ctx.accessKeyId, ctx.accountId);
          throw new AwsError(
            'AccessDenied',
            `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
            403,
          );
        }
        const seconds = duration(input.DurationSeconds, 900, 43_200, 3600);
        const c = auth.issueCredentials(ctx.accountId, {
          ttlMs: seconds * 1000,
          roleName: role[1],
          sessionName,
        });
        const p = auth.principalFor(c.accessKeyId, ctx.accountId);
        return {
          Credentials: {
            AccessKeyId: c.accessKeyId,
            SecretAccessKey: c.secretAccessKey,
            SessionToken: c.sessionToken,
            Expiration: c.expiration,
          },
          AssumedRoleUser: { AssumedRoleId: p.userId, Arn: p.arn },
        };
      },
    },
  };
}
