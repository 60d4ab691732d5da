/** `nimbus nodes [--json]`: the cluster's nodes and their liveness, from a node's health endpoint. */
import { formatFlags, parseArgs, UsageError } from '../cli/args.js';
import { CLIENT_FLAGS, clientOptions } from '../cli/client.js';
import type { Command } from '../cli/registry.js';

export interface HealthNode {
  id: string;
  endpoint: string;
  alive: boolean;
  lastHeartbeat: string;
}

const USAGE = `Usage: nimbus nodes [options]

Lists the nodes of the cluster the endpoint belongs to (nodes sharing one PostgreSQL
database; a single node with SQLite lists itself) and whether each is alive (a heartbeat
within three intervals).

Options:
${formatFlags(CLIENT_FLAGS)}
`;

export function formatNodes(nodes: HealthNode[], self: string | undefined): string {
  const rows = [
    ['NODE', 'ENDPOINT', 'ALIVE', 'LAST HEARTBEAT'],
    ...nodes.map((n) => [
      n.id + (n.id === self ? ' *' : ''),
      n.endpoint,
      n.alive ? 'yes' : 'NO',
      n.lastHeartbeat,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  const alive = nodes.filter((n) => n.alive).length;
  return [...lines, '', `${alive} of ${nodes.length} alive (* = the node that answered)`].join('\n');
}

export const nodesCommand: Command = {
  name: 'nodes',
  summary: 'list the cluster nodes and their liveness',
  usage: USAGE,
  async run(argv) {
    const args = parseArgs(argv, CLIENT_FLAGS);
    if (args.flags.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.positionals.length) throw new UsageError(`unexpected argument: ${args.positionals[0]}`);
    const opts = clientOptions(args);
    let body: { nodeId?: string; nodes?: HealthNode[] };
    try {
      const res = await fetch(`${opts.endpoint}/_nimbus/health`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as typeof body;
    } catch (e) {
      process.stderr.write(`cannot reach Nimbus at ${opts.endpoint}: ${(e as Error).message}\n`);
      return 1;
    }
    const nodes = body.nodes ?? [];
    if (opts.json) process.stdout.write(JSON.stringify({ nodeId: body.nodeId, nodes }) + '\n');
    else process.stdout.write(formatNodes(nodes, body.nodeId) + '\n');
    return 0;
  },
};
