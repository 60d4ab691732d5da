/**
 * Test support: a ResourceContext pointing at a test server, and a provider round trip
 * (create, update, delete twice) with the stored state a stack engine would keep.
 */
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../core/logger.js';
import type { ClientConfig, ResourceContext } from '../types.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function testContext(
  clientConfig: ClientConfig,
  logicalId = 'Res',
  stackName = 'test-stack',
): ResourceContext {
  return {
    accountId: '000000000000',
    region: clientConfig.region,
    stackName,
    stackId: `arn:aws:cloudformation:${clientConfig.region}:000000000000:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    logicalId,
    clientConfig,
    logger: silentLogger,
    physicalName(max = 255) {
      const suffix = [...randomBytes(13)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
      const prefix = `${stackName}-${logicalId}`.slice(0, Math.max(0, max - 14));
      return `${prefix}-${suffix}`;
    },
  };
}
