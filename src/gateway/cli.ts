/**
 * `nimbus apis`: lists the HTTP APIs and the REST APIs with the URL of each stage (and of each
 * custom domain name's API mappings), through the
 * real @aws-sdk/client-apigatewayv2 and @aws-sdk/client-api-gateway against a running Nimbus
 * (`--endpoint`, default NIMBUS_ENDPOINT or http://127.0.0.1:4566).
 */
import { parseArgs } from 'node:util';
import {
  ApiGatewayV2Client,
  GetApiMappingsCommand,
  GetApisCommand,
  GetDomainNamesCommand,
  GetStagesCommand,
  type Api,
} from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  GetRestApisCommand,
  GetStagesCommand as GetRestStagesCommand,
  type RestApi,
} from '@aws-sdk/client-api-gateway';
import type { CliCommand, CliIo } from '../cli/lambda-commands.js';
import { sdkClientConfig } from '../cli/client.js';
import { apiEndpoint } from './engine.js';

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

function describeError(e: unknown): string {
  if (e && typeof e === 'object' && 'name' in e && 'message' in e)
    return `${String((e as { name: unknown }).name)}: ${String((e as { message: unknown }).message)}`;
  return String(e);
}

/** The URL a stage is served at: `$default` at the API endpoint itself. */
export function stageUrl(apiEndpoint: string, stage: string): string {
  return stage === '$default' ? `${apiEndpoint}/` : `${apiEndpoint}/${stage}/`;
}

export const apisCommand: CliCommand = {
  name: 'apis',
  summary: 'List the HTTP APIs and REST APIs (API Gateway) with their URLs',
  usage: 'nimbus apis [--json] [--endpoint URL]',
  async run(argv, io = defaultIo) {
    let args;
    try {
      args = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false }, endpoint: { type: 'string' } },
      });
    } catch (e) {
      io.err(`${describeError(e)}\nusage: ${this.usage}\n`);
      return 2;
    }
    const config = sdkClientConfig(args.values.endpoint, io.env);
    const gw = new ApiGatewayV2Client(config);
    const rest = new APIGatewayClient(config);
    try {
      const apis: Api[] = [];
      let token: string | undefined;
      do {
        const page = await gw.send(new GetApisCommand({ NextToken: token }));
        apis.push(...(page.Items ?? []));
        token = page.NextToken;
      } while (token);
      const rows: { id: string; name: string; protocol: string; stage: string; url: string }[] = [];
      for (const a of apis) {
        const stages = (await gw.send(new GetStagesCommand({ ApiId: a.ApiId }))).Items ?? [];
        if (stages.length === 0)
          rows.push({
            id: a.ApiId!,
            name: a.Name!,
            protocol: a.ProtocolType!,
            stage: '-',
            url: '(no stage)',
          });
        for (const s of stages) {
          rows.push({
            id: a.ApiId!,
            name: a.Name!,
            protocol: a.ProtocolType!,
            stage: s.StageName!,
            url: s.DeploymentId ? stageUrl(a.ApiEndpoint!, s.StageName!) : '(not deployed)',
          });
        }
      }
      const restApis: RestApi[] = [];
      let position: string | undefined;
      do {
        const page = await rest.send(new GetRestApisCommand({ position, limit: 500 }));
        restApis.push(...(page.items ?? []));
        position = page.position;
      } while (position);
      for (const a of restApis) {
        const stages = (await rest.send(new GetRestStagesCommand({ restApiId: a.id }))).item ?? [];
        if (stages.length === 0)
          rows.push({ id: a.id!, name: a.name!, protocol: 'REST', stage: '-', url: '(no stage)' });
        for (const s of stages)
          rows.push({
            id: a.id!,
            name: a.name!,
            protocol: 'REST',
            stage: s.stageName!,
            url: stageUrl(apiEndpoint(String(config?.endpoint), a.id!), s.stageName!),
          });
      }
      // Custom domain names: one row per API mapping, at `http://{domain}:{port}/{key}/`.
      const names = new Map<string, { name: string; protocol: string }>();
      for (const a of apis) names.set(a.ApiId!, { name: a.Name!, protocol: a.ProtocolType! });
      for (const a of restApis) names.set(a.id!, { name: a.name!, protocol: 'REST' });
      const port = new URL(String(config?.endpoint)).port;
      let dtoken: string | undefined;
      do {
        const page = await gw.send(new GetDomainNamesCommand({ NextToken: dtoken }));
        for (const d of page.Items ?? []) {
          const maps = (await gw.send(new GetApiMappingsCommand({ DomainName: d.DomainName }))).Items ?? [];
          for (const m of maps) {
            const api = names.get(m.ApiId!);
            const key = m.ApiMappingKey ? `${m.ApiMappingKey}/` : '';
            rows.push({
              id: m.ApiId!,
              name: api?.name ?? '-',
              protocol: api?.protocol ?? '-',
              stage: m.Stage ?? '-',
              url: `http://${d.DomainName}${port ? `:${port}` : ''}/${key}`,
            });
          }
        }
        dtoken = page.NextToken;
      } while (dtoken);
      if (args.values.json) {
        io.out(JSON.stringify(rows, null, 2) + '\n');
        return 0;
      }
      if (rows.length === 0) {
        io.out('No APIs.\n');
        return 0;
      }
      const head = ['API ID', 'NAME', 'PROTOCOL', 'STAGE', 'URL'];
      const table = rows.map((r) => [r.id, r.name, r.protocol, r.stage, r.url]);
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
      const fmt = (r: string[]) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd() + '\n';
      io.out(fmt(head) + table.map(fmt).join(''));
      return 0;
    } catch (e) {
      io.err(`${describeError(e)}\n`);
      return 1;
    } finally {
      gw.destroy();
      rest.destroy();
    }
  },
};
