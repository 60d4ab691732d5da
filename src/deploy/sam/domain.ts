/**
 * SAM's `Domain` property of AWS::Serverless::Api and AWS::Serverless::HttpApi, expanded as SAM
 * expands it: a domain name (`ApiGatewayDomainName<hash>` / `ApiGatewayDomainNameV2<hash>`),
 * one base path / API mapping per `BasePath` entry (`<api><path>BasePathMapping` /
 * `<api><path>ApiMapping`), and with `Route53` a `RecordSetGroup<hash>` of alias records
 * (recorded: Nimbus serves no DNS).
 */
import type { TemplateResource } from '../types.js';
import type { SamContext } from './context.js';
import { alnum } from './rest-api.js';
import { hashedId, isObject, ref, resource, type Props } from './util.js';

type Json = Parameters<typeof hashedId>[1];

const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });

export function buildDomain(
  ctx: SamContext,
  apiId: string,
  domain: unknown,
  stageId: string,
  kind: 'REST' | 'HTTP',
  add: (id: string, res: TemplateResource) => void,
): void {
  if (domain === undefined) return;
  if (!isObject(domain)) {
    ctx.errors.resource(apiId, "Invalid property type 'Domain'.");
    return;
  }
  if (domain.DomainName === undefined) {
    ctx.errors.resource(
      apiId,
      'Custom Domains only works if both DomainName and CertificateArn are provided.',
    );
    return;
  }
  if (domain.CertificateArn === undefined) {
    ctx.errors.resource(
      apiId,
      'Custom Domains only works if both DomainName and CertificateArn are provided.',
    );
    return;
  }
  const endpoint = String(
    ctx.resolver.resolve(domain.EndpointConfiguration) ?? (kind === 'HTTP' ? 'REGIONAL' : 'EDGE'),
  );
  if (!['REGIONAL', 'EDGE', 'PRIVATE'].includes(endpoint) || (kind === 'HTTP' && endpoint !== 'REGIONAL')) {
    ctx.errors.resource(
      apiId,
      kind === 'HTTP'
        ? `EndpointConfiguration for Custom Domains must be one of ['REGIONAL'].`
        : `EndpointConfiguration for Custom Domains must be one of ['EDGE', 'REGIONAL', 'PRIVATE'].`,
    );
    return;
  }
  const domainId = hashedId(
    kind === 'HTTP' ? 'ApiGatewayDomainNameV2' : 'ApiGatewayDomainName',
    domain.DomainName as Json,
  );
  const mtls = isObject(domain.MutualTlsAuthentication) ? domain.MutualTlsAuthentication : undefined;
  if (kind === 'HTTP') {
    add(
      domainId,
      resource('AWS::ApiGatewayV2::DomainName', {
        DomainName: domain.DomainName,
        DomainNameConfigurations: [
          {
            CertificateArn: domain.CertificateArn,
            EndpointType: endpoint,
            SecurityPolicy: domain.SecurityPolicy,
            OwnershipVerificationCertificateArn: domain.OwnershipVerificationCertificateArn,
          },
        ],
        MutualTlsAuthentication: mtls,
        Tags: domain.Tags,
      }),
    );
  } else {
    add(
      domainId,
      resource('AWS::ApiGateway::DomainName', {
        DomainName: domain.DomainName,
        ...(endpoint === 'REGIONAL'
          ? { RegionalCertificateArn: domain.CertificateArn }
          : { CertificateArn: domain.CertificateArn }),
        EndpointConfiguration: { Types: [endpoint] },
        SecurityPolicy: domain.SecurityPolicy,
        MutualTlsAuthentication: mtls,
        OwnershipVerificationCertificateArn: domain.OwnershipVerificationCertificateArn,
      }),
    );
  }

  const raw = domain.BasePath;
  const paths = (raw === undefined ? ['/'] : Array.isArray(raw) ? raw : [raw]).map((p) =>
    String(ctx.resolver.resolve(p) ?? ''),
  );
  for (const p of paths) {
    const key = p.replace(/^\/+|\/+$/g, '');
    const suffix = kind === 'HTTP' ? 'ApiMapping' : 'BasePathMapping';
    const id = `${apiId}${alnum(key)}${suffix}`;
    if (kind === 'HTTP')
      add(
        id,
        resource('AWS::ApiGatewayV2::ApiMapping', {
          DomainName: ref(domainId),
          ApiId: ref(apiId),
          Stage: ref(stageId),
          ApiMappingKey: key || undefined,
        }),
      );
    else
      add(
        id,
        resource('AWS::ApiGateway::BasePathMapping', {
          DomainName: ref(domainId),
          RestApiId: ref(apiId),
          Stage: ref(stageId),
          BasePath: key || undefined,
        }),
      );
  }

  const r53 = isObject(domain.Route53) ? domain.Route53 : undefined;
  if (!r53) return;
  if (r53.HostedZoneId === undefined && r53.HostedZoneName === undefined) {
    ctx.errors.resource(
      apiId,
      'HostedZoneId or HostedZoneName is required to enable Route53 support on Custom Domains.',
    );
    return;
  }
  const regional = kind === 'HTTP' || endpoint === 'REGIONAL';
  const alias = {
    DNSName: getAtt(domainId, regional ? 'RegionalDomainName' : 'DistributionDomainName'),
    HostedZoneId: regional ? getAtt(domainId, 'RegionalHostedZoneId') : 'Z2FDTNDATAQYW2',
    EvaluateTargetHealth: r53.EvaluateTargetHealth,
  };
  const record = (type: string): Props => ({
    Name: domain.DomainName,
    Type: type,
    AliasTarget: alias,
    ...(r53.SetIdentifier !== undefined ? { SetIdentifier: r53.SetIdentifier } : {}),
    ...(r53.Region !== undefined ? { Region: r53.Region } : {}),
  });
  add(
    hashedId('RecordSetGroup', (r53.HostedZoneId ?? r53.HostedZoneName) as Json),
    resource('AWS::Route53::RecordSetGroup', {
      HostedZoneId: r53.HostedZoneId,
      HostedZoneName: r53.HostedZoneName,
      RecordSets: r53.IpV6 === true ? [record('A'), record('AAAA')] : [record('A')],
    }),
  );
}
