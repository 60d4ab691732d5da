/**
 * Code packages: checks a zip against Lambda's limits, stores it as a blob keyed by its
 * sha256 and extracts it on demand into `<codeCacheDir>/<sha256 hex>/` (zip-slip safe,
 * executable bits kept, everything world-readable).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import AdmZip from 'adm-zip';
import type { BlobStore } from '../storage/store.js';
import type { LambdaLimits } from '../core/config.js';
import { errors } from './model.js';

export interface CodeInfo {
  /** Base64 sha256, as Lambda's CodeSha256. */
  sha256: string;
  hex: string;
  size: number;
  unzippedSize: number;
}

export function blobKey(hex: string): string {
  return `lambda/code/${hex}`;
}

/** Validates the zip (readable, under the unzipped limit) and describes it. */
export function inspectZip(zip: Buffer, limits: LambdaLimits, operation: string): CodeInfo {
  // Lambda measures the base64 request: 50 MB of zip is 69905067 base64 bytes.
  if (zip.length > limits.zippedCodeBytes) {
    throw errors.tooLarge(Math.ceil((limits.zippedCodeBytes * 4) / 3) + 1, operation);
  }
  let unzippedSize = 0;
  try {
    const entries = new AdmZip(zip).getEntries();
    for (const e of entries) unzippedSize += e.header.size;
  } catch {
    throw errors.invalidParameter(
      'Could not unzip uploaded file. Please check your file, then try to upload again.',
    );
  }
  if (unzippedSize > limits.unzippedCodeBytes) {
    throw errors.invalidParameter(`Unzipped size must be smaller than ${limits.unzippedCodeBytes} bytes`);
  }
  const digest = createHash('sha256').update(zip).digest();
  return { sha256: digest.toString('base64'), hex: digest.toString('hex'), size: zip.length, unzippedSize };
}

/** Extracts the zip into dir (which must not exist yet) through a temporary sibling. */
export function extractZip(zip: Buffer, dir: string): void {
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  try {
    const root = resolve(tmp);
    for (const e of new AdmZip(zip).getEntries()) {
      const target = resolve(root, e.entryName);
      if (target !== root && !target.startsWith(root + sep)) {
        throw errors.invalidParameter(
          'Could not unzip uploaded file. Please check your file, then try to upload again.',
        );
      }
      // Unix mode in the high 16 bits of the external attributes (absent for zips made on Windows).
      const unixMode = (e.attr >>> 16) & 0o7777;
      if (e.isDirectory) {
        mkdirSync(target, { recursive: true, mode: 0o755 });
        chmodSync(target, 0o755);
        continue;
      }
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      const executable = (unixMode & 0o111) !== 0;
      writeFileSync(target, e.getData());
      chmodSync(target, executable ? 0o755 : 0o644);
    }
    chmodSync(tmp, 0o755);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another invoke extracted it first: keep theirs.
      if (!existsSync(dir)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Makes sure `<cacheDir>/<hex>` holds the extracted code; returns the directory. */
export class CodeCache {
  private readonly pending = new Map<string, Promise<string>>();
  /** Extracted directories this process has seen (skips a stat per invoke). */
  private readonly ready = new Map<string, string>();

  constructor(
    private readonly cacheDir: string,
    private readonly blobs: BlobStore,
  ) {}

  dirFor(hex: string): string {
    return join(this.cacheDir, hex);
  }

  /** Stores the zip as a blob (idempotent) and extracts it so create returns Active at once. */
  async stage(zip: Buffer, info: CodeInfo): Promise<string> {
    if (!(await this.blobs.has(blobKey(info.hex)))) await this.blobs.put(blobKey(info.hex), zip);
    const dir = this.dirFor(info.hex);
    if (!existsSync(dir)) {
      mkdirSync(this.cacheDir, { recursive: true, mode: 0o755 });
      extractZip(zip, dir);
    }
    return dir;
  }

  /** The extracted directory, re-extracted from the blob when this node does not have it. */
  ensure(hex: string): Promise<string> | string {
    const known = this.ready.get(hex);
    if (known) return known;
    const dir = this.dirFor(hex);
    if (existsSync(dir)) {
      this.ready.set(hex, dir);
      return dir;
    }
    let p = this.pending.get(hex);
    if (!p) {
      p = (async () => {
        const zip = await this.blobs.get(blobKey(hex));
        if (!zip) throw new Error(`code package ${hex} is missing from the blob store`);
        mkdirSync(this.cacheDir, { recursive: true, mode: 0o755 });
        if (!existsSync(dir)) extractZip(zip, dir);
        return dir;
      })().finally(() => this.pending.delete(hex));
      this.pending.set(hex, p);
    }
    return p;
  }
}
