/** AWS STS over the Query protocol (version 2011-06-15): who am I. */
import type { QueryService } from './service.js';
import type { Auth } from './auth.js';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

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
    },
  };
}
