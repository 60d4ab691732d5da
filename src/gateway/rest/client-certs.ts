/**
 * API Gateway client certificates (GenerateClientCertificate, Get, GetClientCertificates,
 * Update, Delete): a self-signed certificate API Gateway would present to HTTP backends, per
 * account and region, valid for 365 days. The private key is kept with the record and never
 * shown. Stages name one in `clientCertificateId`, which must exist.
 */
import type { Clock } from '../../core/clock.js';
import { shortId } from '../../core/ids.js';
import type { Store } from '../../storage/store.js';
import { page } from './engine.js';
import {
  CLIENT_CERT_NOT_FOUND,
  COLLECTION_CLIENT_CERTS,
  restErrors as errors,
  scopedKey,
  type Scope,
} from './model.js';
import { applyPatch } from './patch.js';
import { selfSignedCertificate } from '../../core/x509.js';

type Input = Record<string, any>;

export interface ClientCertificateRecord {
  clientCertificateId: string;
  description?: string;
  pemEncodedCertificate: string;
  /** PKCS#8 PEM of the certificate's key (never in a view). */
  privateKeyPem: string;
  /** Epoch seconds. */
  createdDate: number;
  expirationDate: number;
  tags: Record<string, string>;
}

/** The certificate's validity: AWS's client certificates expire 365 days after they are generated. */
const VALIDITY_DAYS = 365;

function view(c: ClientCertificateRecord): Input {
  const out: Input = {
    clientCertificateId: c.clientCertificateId,
    pemEncodedCertificate: c.pemEncodedCertificate,
    createdDate: c.createdDate,
    expirationDate: c.expirationDate,
  };
  if (c.description !== undefined) out.description = c.description;
  if (Object.keys(c.tags).length) out.tags = c.tags;
  return out;
}

function tagsOf(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw errors.badRequest('Invalid tags');
  return Object.fromEntries(Object.entries(v as Input).map(([k, x]) => [k, String(x)]));
}

export class ClientCertificates {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  async generate(scope: Scope, input: Input): Promise<Input> {
    const id = shortId(6);
    const now = this.deps.clock.now();
    const notBefore = new Date(Math.floor(now / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + VALIDITY_DAYS * 86_400_000);
    const cert = await selfSignedCertificate({ commonName: id, notBefore, notAfter });
    const rec: ClientCertificateRecord = {
      clientCertificateId: id,
      pemEncodedCertificate: cert.certificatePem,
      privateKeyPem: cert.privateKeyPem,
      createdDate: notBefore.getTime() / 1000,
      expirationDate: notAfter.getTime() / 1000,
      tags: tagsOf(input.tags),
    };
    if (input.description !== undefined) rec.description = String(input.description);
    await this.deps.store.put(COLLECTION_CLIENT_CERTS, scopedKey(scope, id), rec);
    return view(rec);
  }

  /** The certificate with its key (for serving), or undefined. */
  find(scope: Scope, id: string): Promise<ClientCertificateRecord | undefined> {
    return this.deps.store.get<ClientCertificateRecord>(COLLECTION_CLIENT_CERTS, scopedKey(scope, id));
  }

  async get(scope: Scope, id: string): Promise<Input> {
    const rec = await this.find(scope, id);
    if (!rec) throw errors.notFound(CLIENT_CERT_NOT_FOUND);
    return view(rec);
  }

  async list(scope: Scope, input: Input): Promise<{ items: Input[]; position?: string }> {
    const rows = await this.deps.store.scan<ClientCertificateRecord>(COLLECTION_CLIENT_CERTS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    const items = rows.map((r) => r.value).sort((a, b) => a.createdDate - b.createdDate);
    return page(items.map(view), input);
  }

  /** Patch path `/description` (replace). */
  async update(scope: Scope, id: string, input: Input): Promise<Input> {
    return this.deps.store.transaction(async (tx) => {
      const rec = await tx.get<ClientCertificateRecord>(COLLECTION_CLIENT_CERTS, scopedKey(scope, id));
      if (!rec) throw errors.notFound(CLIENT_CERT_NOT_FOUND);
      applyPatch(input, ['/description'], (op) => {
        if (op.path !== '/description' || op.op !== 'replace') return false;
        rec.description = op.value ?? '';
        return true;
      });
      await tx.put(COLLECTION_CLIENT_CERTS, scopedKey(scope, id), rec);
      return view(rec);
    });
  }

  async delete(scope: Scope, id: string): Promise<void> {
    if (!(await this.deps.store.delete(COLLECTION_CLIENT_CERTS, scopedKey(scope, id))))
      throw errors.notFound(CLIENT_CERT_NOT_FOUND);
  }

  /** A stage may name only an existing certificate (UpdateStage `/clientCertificateId`). */
  async checkReference(scope: Scope, id: string): Promise<void> {
    if (id && !(await this.find(scope, id))) throw errors.badRequest(CLIENT_CERT_NOT_FOUND);
  }
}
