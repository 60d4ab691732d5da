/** What the REST API and HTTP API providers share when they import an OpenAPI / Swagger `Body`. */
import type { Props } from './util.js';

/** The operation keys of an OpenAPI path item (API Gateway's ANY is its extension). */
export const METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'x-amazon-apigateway-any-method',
];

/** The template's `Body` property: an object, or a JSON string. */
export function bodyOf(props: Props): Props | undefined {
  const b = props.Body;
  if (b === undefined || b === null) return undefined;
  return (typeof b === 'string' ? JSON.parse(b) : b) as Props;
}
