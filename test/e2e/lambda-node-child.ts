/**
 * A Nimbus node for the kill -9 durability test (what `nimbus up --data-dir D` does):
 * prints `READY <endpoint>` once serving. Arguments: dataDir.
 */
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startNimbus } from '../../src/server/app.js';

const dataDir = process.argv[2];
const config = defaultConfig({ port: 0, dataDir, logLevel: 'error' });
const debug = process.env.NIMBUS_TEST_DEBUG === '1';
config.compute.warmSpares = 0;
const nimbus = await startNimbus(config, { logger: debug ? undefined : silentLogger });
process.stdout.write(`READY ${nimbus.endpoint}\n`);
process.on('SIGTERM', () => void nimbus.close().then(() => process.exit(0)));
