/**
 * `sam package` for Nimbus: zips each built artifact, uploads it to the artifact bucket as
 * `<sha256>.zip` (skipped when it is already there) and points the template at it.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import AdmZip from 'adm-zip';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ARTIFACT_BUCKET, type Template } from '../types.js';
import { hashDir, listFiles, type Artifact } from './build.js';

const FIXED_TIME = new Date(Date.UTC(1980, 0, 1));

/** The zip of an artifact and its content digest (stable: same files, same key). */
export function zipArtifact(path: string): { body: Buffer; sha256: string } {
  const st = statSync(path);
  if (st.isFile() && path.toLowerCase().endsWith('.zip')) {
    const body = readFileSync(path);
    return { body, sha256: createHash('sha256').update(body).digest('hex') };
  }
  const zip = new AdmZip();
  const add = (name: string, file: string) => {
    const mode = statSync(file).mode & 0o777;
    zip.addFile(name, readFileSync(file), '', (mode << 16) >>> 0);
    const entry = zip.getEntry(name);
    if (entry) entry.header.time = FIXED_TIME;
  };
  let sha256: string;
  if (st.isFile()) {
    add(basename(path), path);
    sha256 = createHash('sha256').update(basename(path)).update(readFileSync(path)).digest('hex');
  } else {
    const skip = new Set<string>(['.git']);
    for (const f of listFiles(path, skip)) add(f, join(path, f));
    sha256 = hashDir(path, skip);
  }
  return { body: zip.toBuffer(), sha256 };
}

function isNotFound(e: unknown): boolean {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    x?.name === 'NotFound' ||
    x?.name === 'NoSuchKey' ||
    x?.name === 'NoSuchBucket' ||
    x?.$metadata?.httpStatusCode === 404
  );
}

/** Creates the artifact bucket unless it exists. */
export async function ensureBucket(s3: S3Client, region: string, bucket = ARTIFACT_BUCKET): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    );
  } catch (e) {
    if ((e as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw e;
  }
}

/** Uploads `body` as `key` unless HeadObject finds it. Returns true when it uploaded. */
export async function uploadOnce(
  s3: S3Client,
  key: string,
  body: Buffer,
  bucket = ARTIFACT_BUCKET,
): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return false;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return true;
}

/**
 * Uploads every artifact and returns a copy of the template whose code properties point at
 * S3 (`CodeUri`/`ContentUri`: `s3://bucket/key`; `Code`: `{S3Bucket, S3Key}`; `Content`:
 * `{S3Bucket, S3Key}`).
 */
export async function packageTemplate(
  template: Template,
  artifacts: Artifact[],
  s3: S3Client,
  region: string,
  log: (line: string) => void = () => undefined,
): Promise<Template> {
  const out = structuredClone(template);
  if (artifacts.length === 0) return out;
  await ensureBucket(s3, region);
  for (const a of artifacts) {
    const { body, sha256 } = zipArtifact(a.path);
    const key = `${sha256}.zip`;
    const uploaded = await uploadOnce(s3, key, body);
    log(
      uploaded
        ? `Uploaded ${a.logicalId} to s3://${ARTIFACT_BUCKET}/${key} (${body.length} bytes)`
        : `${a.logicalId}: s3://${ARTIFACT_BUCKET}/${key} is already uploaded`,
    );
    const props = (out.Resources[a.logicalId].Properties ??= {});
    if (a.property === 'CodeUri' || a.property === 'ContentUri')
      props[a.property] = `s3://${ARTIFACT_BUCKET}/${key}`;
    else props[a.property] = { S3Bucket: ARTIFACT_BUCKET, S3Key: key };
  }
  return out;
}

/**
 * `sam package` for API definitions: a SAM Api or HttpApi whose `DefinitionUri` is a local file
 * (an OpenAPI document beside the template) gets it uploaded as it is (`<sha256>.<ext>`) and its
 * `DefinitionUri` pointed at S3, as `sam deploy` does; the API then imports it from there.
 */
export async function packageDefinitions(
  template: Template,
  templateDir: string,
  s3: S3Client,
  region: string,
  log: (line: string) => void = () => undefined,
): Promise<Template> {
  const out = structuredClone(template);
  for (const [logicalId, res] of Object.entries(out.Resources ?? {})) {
    if (res.Type !== 'AWS::Serverless::Api' && res.Type !== 'AWS::Serverless::HttpApi') continue;
    const uri = res.Properties?.DefinitionUri;
    if (typeof uri !== 'string' || !uri || /^s3:\/\//i.test(uri) || /^https?:\/\//i.test(uri)) continue;
    const path = resolve(templateDir, uri);
    let body: Buffer;
    try {
      body = readFileSync(path);
    } catch {
      throw new Error(`${logicalId}: DefinitionUri ${uri} is not a readable file`);
    }
    await ensureBucket(s3, region);
    const ext = extname(path) || '.json';
    const key = `${createHash('sha256').update(body).digest('hex')}${ext}`;
    const uploaded = await uploadOnce(s3, key, body);
    log(
      uploaded
        ? `Uploaded ${logicalId}'s definition to s3://${ARTIFACT_BUCKET}/${key} (${body.length} bytes)`
        : `${logicalId}: s3://${ARTIFACT_BUCKET}/${key} is already uploaded`,
    );
    res.Properties!.DefinitionUri = `s3://${ARTIFACT_BUCKET}/${key}`;
  }
  return out;
}
