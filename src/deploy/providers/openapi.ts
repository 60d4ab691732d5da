/** The OpenAPI / Swagger `Body` the REST API and HTTP API providers hand to PutRestApi / ReimportApi. */
import type { Props } from './util.js';

/** The template's `Body`: an object, or a JSON string. */
export function bodyOf(props: Props): Props | undefined {
  const b = props.Body;
  if (b === undefined || b === null) return undefined;
  return (typeof b === 'string' ? JSON.parse(b) : b) as Props;
}
