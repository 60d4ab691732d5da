/**
 * API Gateway custom domain names: AWS::ApiGatewayV2::DomainName / ApiMapping / RoutingRule
 * through the apigatewayv2 API, AWS::ApiGateway::DomainName / BasePathMapping through the apigateway API.
 * Ref and GetAtt values as CloudFormation documents them.
 */
import {
  ApiGatewayV2Client,
  CreateApiMappingCommand,
  CreateDomainNameCommand,
  CreateRoutingRuleCommand,
  DeleteApiMappingCommand,
  DeleteDomainNameCommand,
  DeleteRoutingRuleCommand,
  PutRoutingRuleCommand,
  UpdateApiMappingCommand,
  UpdateDomainNameCommand,
  type DomainName as V2DomainName,
  type RoutingMode,
  type RoutingRuleAction,
  type RoutingRuleCondition,
} from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  CreateBasePathMappingCommand,
  CreateDomainNameCommand as CreateRestDomainNameCommand,
  DeleteBasePathMappingCommand,
  DeleteDomainNameCommand as DeleteRestDomainNameCommand,
  UpdateDomainNameCommand as UpdateRestDomainNameCommand,
  type DomainName as RestDomainName,
  type PatchOperation,
  type RoutingMode as RestRoutingMode,
} from '@aws-sdk/client-api-gateway';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { bool, clean, ignoreMissing, list, num, str, tagMap, type Props } from './util.js';

const v2 = (ctx: ResourceContext) => new ApiGatewayV2Client(ctx.clientConfig);
const v1 = (ctx: ResourceContext) => new APIGatewayClient(ctx.clientConfig);

function v2Configs(props: Props) {
  return list<Props>(props.DomainNameConfigurations).map((c) =>
    clean({
      CertificateArn: str(c.CertificateArn),
      CertificateName: str(c.CertificateName),
      EndpointType: str(c.EndpointType) as 'REGIONAL' | undefined,
      SecurityPolicy: str(c.SecurityPolicy) as 'TLS_1_2' | undefined,
    }),
  );
}

function v2Attributes(d: Partial<V2DomainName>) {
  const c = d.DomainNameConfigurations?.[0] ?? {};
  return {
    RegionalDomainName: c.ApiGatewayDomainName,
    RegionalHostedZoneId: c.HostedZoneId,
    DomainNameArn: d.DomainNameArn,
  };
}

function mutualTls(v: unknown) {
  const m = v as Props | undefined;
  if (!m) return undefined;
  return clean({ TruststoreUri: str(m.TruststoreUri), TruststoreVersion: str(m.TruststoreVersion) });
}

export const apiGatewayV2DomainName: ResourceProvider = {
  replaceOn: ['DomainName'],
  async create(props, ctx) {
    const out = await v2(ctx).send(
      new CreateDomainNameCommand({
        DomainName: String(props.DomainName),
        DomainNameConfigurations: v2Configs(props),
        MutualTlsAuthentication: mutualTls(props.MutualTlsAuthentication),
        RoutingMode: str(props.RoutingMode) as RoutingMode | undefined,
        Tags: tagMap(props.Tags),
      }),
    );
    return { physicalId: out.DomainName!, attributes: v2Attributes(out) };
  },
  async update(physicalId, props, _previous, ctx) {
    const out = await v2(ctx).send(
      new UpdateDomainNameCommand({
        DomainName: physicalId,
        DomainNameConfigurations: v2Configs(props),
        MutualTlsAuthentication: mutualTls(props.MutualTlsAuthentication),
        RoutingMode: (str(props.RoutingMode) ?? 'API_MAPPING_ONLY') as RoutingMode,
      }),
    );
    return { physicalId, attributes: v2Attributes(out) };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => v2(ctx).send(new DeleteDomainNameCommand({ DomainName: physicalId })));
  },
};

export const apiGatewayV2ApiMapping: ResourceProvider = {
  replaceOn: ['DomainName'],
  async create(props, ctx) {
    const out = await v2(ctx).send(
      new CreateApiMappingCommand({
        DomainName: String(props.DomainName),
        ApiId: String(props.ApiId),
        Stage: String(props.Stage),
        ApiMappingKey: str(props.ApiMappingKey),
      }),
    );
    return { physicalId: out.ApiMappingId!, attributes: { ApiMappingId: out.ApiMappingId } };
  },
  async update(physicalId, props, _previous, ctx) {
    await v2(ctx).send(
      new UpdateApiMappingCommand({
        DomainName: String(props.DomainName),
        ApiMappingId: physicalId,
        ApiId: String(props.ApiId),
        Stage: String(props.Stage),
        ApiMappingKey: str(props.ApiMappingKey) ?? '',
      }),
    );
    return { physicalId, attributes: { ApiMappingId: physicalId } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      v2(ctx).send(
        new DeleteApiMappingCommand({ DomainName: String(props.DomainName), ApiMappingId: physicalId }),
      ),
    );
  },
};

/** The domain name an ARN names (`arn:aws:apigateway:{region}::/domainnames/{name}`), or a name. */
function domainOfArn(arn: unknown): string {
  const s = String(arn ?? '');
  const at = s.indexOf('/domainnames/');
  return at < 0 ? s : s.slice(at + '/domainnames/'.length).split('/')[0];
}

function ruleInput(props: Props) {
  return {
    DomainName: domainOfArn(props.DomainNameArn),
    Priority: num(props.Priority)!,
    Conditions: list<Props>(props.Conditions).map((c): RoutingRuleCondition =>
      clean({
        MatchHeaders: c.MatchHeaders
          ? {
              AnyOf: list<Props>((c.MatchHeaders as Props).AnyOf).map((h) => ({
                Header: str(h.Header),
                ValueGlob: str(h.ValueGlob),
              })),
            }
          : undefined,
        MatchBasePaths: c.MatchBasePaths
          ? { AnyOf: list<string>((c.MatchBasePaths as Props).AnyOf).map(String) }
          : undefined,
      }),
    ),
    Actions: list<Props>(props.Actions).map((a): RoutingRuleAction => {
      const inv = (a.InvokeApi ?? {}) as Props;
      return {
        InvokeApi: clean({
          ApiId: str(inv.ApiId),
          Stage: str(inv.Stage),
          StripBasePath: bool(inv.StripBasePath),
        }),
      };
    }),
  };
}

/** AWS::ApiGatewayV2::RoutingRule: physical id (and Ref) the rule's ARN. */
export const apiGatewayV2RoutingRule: ResourceProvider = {
  replaceOn: ['DomainNameArn'],
  async create(props, ctx) {
    const out = await v2(ctx).send(new CreateRoutingRuleCommand(ruleInput(props)));
    return {
      physicalId: out.RoutingRuleArn!,
      attributes: { RoutingRuleArn: out.RoutingRuleArn, RoutingRuleId: out.RoutingRuleId },
    };
  },
  async update(physicalId, props, _previous, ctx) {
    const id = physicalId.split('/').pop()!;
    await v2(ctx).send(new PutRoutingRuleCommand({ ...ruleInput(props), RoutingRuleId: id }));
    return { physicalId, attributes: { RoutingRuleArn: physicalId, RoutingRuleId: id } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      v2(ctx).send(
        new DeleteRoutingRuleCommand({
          DomainName: domainOfArn(props.DomainNameArn),
          RoutingRuleId: physicalId.split('/').pop()!,
        }),
      ),
    );
  },
};

function restAttributes(d: RestDomainName) {
  return clean({
    DistributionDomainName: d.distributionDomainName,
    DistributionHostedZoneId: d.distributionHostedZoneId,
    RegionalDomainName: d.regionalDomainName,
    RegionalHostedZoneId: d.regionalHostedZoneId,
    DomainNameArn: d.domainNameArn,
  });
}

function endpointTypes(props: Props): string[] | undefined {
  const types = list<string>((props.EndpointConfiguration as Props | undefined)?.Types);
  return types.length ? types : undefined;
}

export const restDomainName: ResourceProvider = {
  replaceOn: ['DomainName'],
  async create(props, ctx) {
    const out = await v1(ctx).send(
      new CreateRestDomainNameCommand({
        domainName: String(props.DomainName),
        certificateArn: str(props.CertificateArn),
        regionalCertificateArn: str(props.RegionalCertificateArn),
        endpointConfiguration: endpointTypes(props)
          ? { types: endpointTypes(props) as ('EDGE' | 'REGIONAL')[] }
          : undefined,
        securityPolicy: str(props.SecurityPolicy) as 'TLS_1_2' | undefined,
        routingMode: str(props.RoutingMode) as RestRoutingMode | undefined,
        mutualTlsAuthentication: props.MutualTlsAuthentication
          ? clean({
              truststoreUri: str((props.MutualTlsAuthentication as Props).TruststoreUri),
              truststoreVersion: str((props.MutualTlsAuthentication as Props).TruststoreVersion),
            })
          : undefined,
        tags: tagMap(props.Tags),
      }),
    );
    return { physicalId: out.domainName!, attributes: restAttributes(out) };
  },
  async update(physicalId, props, _previous, ctx) {
    const ops: PatchOperation[] = [];
    const set = (path: string, value: string | undefined) => {
      if (value !== undefined) ops.push({ op: 'replace', path, value });
    };
    set('/certificateArn', str(props.CertificateArn));
    set('/regionalCertificateArn', str(props.RegionalCertificateArn));
    set('/securityPolicy', str(props.SecurityPolicy));
    set('/endpointConfiguration/types/0', endpointTypes(props)?.[0]);
    set('/routingMode', str(props.RoutingMode) ?? 'BASE_PATH_MAPPING_ONLY');
    const out = await v1(ctx).send(
      new UpdateRestDomainNameCommand({ domainName: physicalId, patchOperations: ops }),
    );
    return { physicalId, attributes: restAttributes(out) };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => v1(ctx).send(new DeleteRestDomainNameCommand({ domainName: physicalId })));
  },
};

/** `''` and `/` are the root mapping, as in templates. */
function basePathOf(props: Props): string | undefined {
  const b = str(props.BasePath)?.replace(/^\/+|\/+$/g, '');
  return b ? b : undefined;
}

export const restBasePathMapping: ResourceProvider = {
  replaceOn: ['DomainName', 'BasePath', 'RestApiId', 'Stage'],
  async create(props, ctx) {
    const basePath = basePathOf(props);
    await v1(ctx).send(
      new CreateBasePathMappingCommand({
        domainName: String(props.DomainName),
        restApiId: String(props.RestApiId),
        stage: str(props.Stage),
        basePath,
      }),
    );
    return { physicalId: `${String(props.DomainName)}/${basePath ?? '(none)'}`, attributes: {} };
  },
  async update(physicalId) {
    return { physicalId, attributes: {} };
  },
  async delete(_physicalId, props, ctx) {
    await ignoreMissing(() =>
      v1(ctx).send(
        new DeleteBasePathMappingCommand({
          domainName: String(props.DomainName),
          basePath: basePathOf(props) ?? '(none)',
        }),
      ),
    );
  },
};
