/**
 * What exports to S3 and imports from S3 share: their records (one collection, keyed
 * `<account>/<region>/<id>`, the id starting with its 14-digit creation time so keys sort by
 * age), a record and its job written in one Store transaction, the lookup by ARN, the paged
 * list, and the worker that runs the jobs on any node.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { KvReader, Store, Transaction } from '../storage/store.js';
import { startWorker, type Worker } from '../storage/worker.js';
import { constraint, err, errors, type Scope } from './model.js';

export interface JobRecord {
  arn: string;
  id: string;
  tableArn: string;
}

/** Page sizes of ListExports (MaxResults) and ListImports (PageSize): 1..25. */
function pageSize(v: unknown, member: string): number {
  const n = v ?? 25;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 25)
    throw errors.constraints([
      constraint(
        n,
        member,
        typeof n === 'number' && n < 1
          ? 'Member must have value greater than or equal to 1'
          : 'Member must have value less than or equal to 25',
      ),
    ]);
  return n;
}

export class S3Jobs<R extends JobRecord> {
  private worker: Worker | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** The collection of the records; the job queue has the same name. */
    private readonly collection: string,
    /** `export` or `import`: the ARN segment and the error names. */
    private readonly kind: 'export' | 'import',
  ) {}

  key(scope: Scope, id: string): string {
    return `${scope.accountId}/${scope.region}/${id}`;
  }

  /** Records `rec` and enqueues its job, in `tx`. */
  async add(tx: Transaction, scope: Scope, rec: R): Promise<void> {
    const key = this.key(scope, rec.id);
    await tx.put(this.collection, key, rec);
    await tx.enqueue(this.collection, { key }, { maxAttempts: 5 });
  }

  /** The scope's records, oldest first (read in `tx` when given). */
  async all(scope: Scope, tx: KvReader = this.store): Promise<R[]> {
    return (await tx.scan<R>(this.collection, { prefix: `${scope.accountId}/${scope.region}/` })).map(
      (r) => r.value,
    );
  }

  /** The record an ARN names; `{Kind}NotFoundException` when there is none. */
  async byArn(scope: Scope, arn: unknown, member: string): Promise<R> {
    if (arn === undefined || arn === null)
      throw errors.constraints([constraint(null, member, 'Member must not be null')]);
    const m = new RegExp(
      `^arn:aws[\\w-]*:dynamodb:[^:]+:\\d{12}:table\\/[^/]+\\/${this.kind}\\/(\\d{14}-[0-9a-f]{8})$`,
    ).exec(String(arn));
    const rec = m ? await this.store.get<R>(this.collection, this.key(scope, m[1])) : undefined;
    if (!rec || rec.arn !== arn) {
      const Kind = this.kind === 'export' ? 'Export' : 'Import';
      throw err(`${Kind}NotFoundException`, `${Kind} not found: ${String(arn)}`);
    }
    return rec;
  }

  /** A page of the scope's records (of one table when `tableArn` is given), and the next token. */
  async page(
    scope: Scope,
    input: { size: unknown; sizeMember: string; nextToken?: unknown; tableArn?: unknown },
  ): Promise<{ records: R[]; next?: string }> {
    const size = pageSize(input.size, input.sizeMember);
    const rows = await this.store.scan<R>(this.collection, {
      prefix: `${scope.accountId}/${scope.region}/`,
      ...(input.nextToken ? { after: String(input.nextToken) } : {}),
    });
    const wanted = rows.filter((r) => input.tableArn === undefined || r.value.tableArn === input.tableArn);
    const page = wanted.slice(0, size);
    return {
      records: page.map((r) => r.value),
      ...(wanted.length > size ? { next: page[page.length - 1].key } : {}),
    };
  }

  /** Merges `patch` into the record stored under `key`. */
  async save(key: string, patch: Partial<R>): Promise<void> {
    await this.store.transaction(async (tx) => {
      const cur = await tx.get<R>(this.collection, key);
      if (cur) await tx.put(this.collection, key, { ...cur, ...patch });
    });
  }

  get(key: string): Promise<R | undefined> {
    return this.store.get<R>(this.collection, key);
  }

  /** Runs `run(key)` for each job, on this node, until stop(). */
  start(logger: Logger, run: (key: string) => Promise<void>): void {
    this.worker ??= startWorker<{ key: string }>({
      store: this.store,
      queue: this.collection,
      clock: this.clock,
      logger,
      leaseMs: 60_000,
      handle: (job) => run(job.payload.key),
    });
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    this.worker = undefined;
  }
}
