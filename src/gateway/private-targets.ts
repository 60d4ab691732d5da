/**
 * Where private integrations go without a VPC: `nimbus up --private-target NAME=URL` maps a
 * load balancer (an NLB's DNS name or host, the host of a REST private integration's `uri`; a
 * listener or Cloud Map service ARN, an HTTP API private integration's `IntegrationUri`) to a
 * local base URL whose scheme, host and port replace the target's.
 */

/** NAME -> base URL (origin, no trailing slash). Host names are kept in lower case. */
export type PrivateTargets = ReadonlyMap<string, string>;

const isArn = (name: string) => name.startsWith('arn:');

/**
 * Parses `NAME=URL` entries (comma-separated, as `NIMBUS_PRIVATE_TARGETS` takes them; several
 * lists may be given). Throws an Error with the reason for a malformed entry.
 */
export function parsePrivateTargets(lists: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const list of lists)
    for (const raw of list.split(',')) {
      const entry = raw.trim();
      if (!entry) continue;
      const eq = entry.indexOf('=');
      const name = eq > 0 ? entry.slice(0, eq).trim() : '';
      const value = eq > 0 ? entry.slice(eq + 1).trim() : '';
      if (!name || !value) throw new Error(`--private-target takes NAME=URL (got "${entry}")`);
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new Error(`--private-target ${name}: "${value}" is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`--private-target ${name}: the URL must be http:// or https://`);
      if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
        throw new Error(
          `--private-target ${name}: the URL is a base URL (scheme, host, port) without a path`,
        );
      out.set(isArn(name) ? name : name.toLowerCase(), url.origin);
    }
  return out;
}

/**
 * A REST private integration's URL with its scheme, host and port replaced by the target mapped
 * to its `host:port` or host; the URL unchanged when neither is mapped.
 */
export function restPrivateUrl(url: string, targets: PrivateTargets | undefined): string {
  if (!targets?.size) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const base = (u.port && targets.get(`${u.hostname}:${u.port}`)) || targets.get(u.hostname);
  return base ? base + u.pathname + u.search : url;
}
