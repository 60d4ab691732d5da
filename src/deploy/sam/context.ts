/** State shared by the parts of one SAM transform. */
import type { Template, TemplateResource } from '../types.js';
import type { ApiRoute } from './function.js';
import { SamErrors, SimpleResolver } from './util.js';

export class SamContext {
  readonly errors = new SamErrors();
  readonly out: Record<string, TemplateResource> = {};
  /** `Fn.Alias` / `Fn.Version` / layer ids -> the logical ids SAM generated for them. */
  readonly specialRefs: Record<string, string> = {};
  /** API events by API logical id (`ServerlessRestApi`, `ServerlessHttpApi` or an explicit API). */
  readonly restRoutes = new Map<string, ApiRoute[]>();
  readonly httpRoutes = new Map<string, ApiRoute[]>();
  /** Per-event HttpApi RouteSettings, moved onto the API's stage. */
  readonly httpRouteSettings: { apiId: string; key: string; settings: unknown }[] = [];

  constructor(
    readonly template: Template,
    readonly resolver: SimpleResolver,
  ) {}

  add(logicalId: string, res: TemplateResource): void {
    this.out[logicalId] = res;
  }

  /** Registers an Api / HttpApi event on the API it names (an explicit one in this template) or the implicit API. */
  addRoute(type: 'Api' | 'HttpApi', route: ApiRoute): void {
    const key = type === 'Api' ? 'RestApiId' : 'ApiId';
    const samType = type === 'Api' ? 'AWS::Serverless::Api' : 'AWS::Serverless::HttpApi';
    let apiId = type === 'Api' ? 'ServerlessRestApi' : 'ServerlessHttpApi';
    const given = route.props[key];
    if (given !== undefined) {
      const name =
        typeof given === 'string'
          ? given
          : given !== null &&
              typeof given === 'object' &&
              typeof (given as { Ref?: unknown }).Ref === 'string'
            ? (given as { Ref: string }).Ref
            : undefined;
      if (name === undefined || this.template.Resources[name]?.Type !== samType) {
        this.errors.event(
          route.fnId,
          route.eventId,
          `${key} property of ${type} event must reference a valid resource in the same template.`,
        );
        return;
      }
      apiId = name;
    }
    const map = type === 'Api' ? this.restRoutes : this.httpRoutes;
    const list = map.get(apiId) ?? [];
    list.push(route);
    map.set(apiId, list);
  }
}
