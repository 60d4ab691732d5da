/** The OpenAPI / Swagger definition the REST API and HTTP API providers hand to PutRestApi / ReimportApi. */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import type { ResourceContext } from '../types.js';
import type { Props } from './util.js';

/** The template's `Body`: an object, or a JSON string. */
export function bodyOf(props: Props): Props | undefined {
  const b = props.Body;
  if (b === undefined || b === null) return undefined;
  return (typeof b === 'string' ? JSON.parse(b) : b) as Props;
}

/**
 * The definition the template gives: `Body`, else the document `BodyS3Location` names
 * (`{Bucket, Key, Version}`, JSON or YAML), read from this Nimbus's S3 as CloudFormation reads it.
 */
export async function definitionOf(props: Props, ctx: ResourceContext): Promise<Props | undefined> {
  const body = bodyOf(props);
  if (body) return body;
  const loc = props.BodyS3Location as Props | undefined;
  if (!loc) return undefined;
  const s3 = new S3Client({ ...ctx.clientConfig, forcePathStyle: true });
  try {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: String(loc.Bucket),
        Key: String(loc.Key),
        ...(loc.Version !== undefined ? { VersionId: String(loc.Version) } : {}),
      }),
    );
    return parseYaml(await out.Body!.transformToString()) as Props;
  } finally {
    s3.destroy();
  }
}

/** Did the definition (`Body` or `BodyS3Location`) change between two versions of the properties? */
export function definitionChanged(props: Props, before: Props): boolean {
  return (
    JSON.stringify(props.Body ?? props.BodyS3Location) !==
    JSON.stringify(before.Body ?? before.BodyS3Location)
  );
}
