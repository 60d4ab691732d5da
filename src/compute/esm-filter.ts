/**
 * Event filtering on event source mappings (`FilterCriteria`): validation of the filters and
 * matching of one record, as Lambda does it.
 *
 * - A mapping has at most 5 filters; each `Pattern` is an event pattern (the EventBridge
 *   syntax of src/messaging/sns/filter-policy.ts). A record is delivered when it matches any
 *   filter; the others are dropped (SQS: deleted, streams: skipped).
 * - Records are matched as the function's event carries them. SQS `body` is the exception: a
 *   body that is JSON (an object or an array) is matched in its parsed form, so a pattern
 *   nests under `body`; any other body is a plain string, matched by a pattern that lists
 *   values under `body`. When the body and the pattern's `body` disagree (JSON body, plain
 *   string pattern, or the reverse) the filter does not match, as Lambda drops such a message.
 */
import { AwsError } from '../protocols/errors.js';
import { matchesEventPattern, parseEventPattern, type EventPattern } from '../messaging/sns/filter-policy.js';
import { constraint, errors } from './model.js';

export const MAX_FILTERS = 5;
const MAX_PATTERN_LENGTH = 4096;

export interface FilterCriteriaInput {
  Filters?: { Pattern?: string }[] | null;
}

export type EventSourceKind = 'sqs' | 'dynamodb';

/** Whether a record passes the mapping's filters. */
export type RecordFilter = (record: Record<string, unknown>) => boolean;

function invalidPattern(): AwsError {
  return errors.invalidParameter('Invalid filter pattern definition.');
}

/**
 * The filters' patterns to store, validated; an empty list (`{}` or `{ Filters: [] }`) means
 * no filtering.
 */
export function parseFilterCriteria(input: FilterCriteriaInput): string[] {
  const filters = input.Filters ?? [];
  if (!Array.isArray(filters)) throw invalidPattern();
  if (filters.length > MAX_FILTERS)
    throw errors.invalidParameter(
      `The number of filters (${filters.length}) exceeds the limit of ${MAX_FILTERS} filters per event source mapping.`,
    );
  const patterns: string[] = [];
  for (const [i, f] of filters.entries()) {
    const p = f?.Pattern;
    if (typeof p === 'string' && p.length > MAX_PATTERN_LENGTH)
      throw errors.validation([
        constraint(
          p,
          `filterCriteria.filters.${i + 1}.member.pattern`,
          `Member must have length less than or equal to ${MAX_PATTERN_LENGTH}`,
        ),
      ]);
    if (typeof p !== 'string') throw invalidPattern();
    try {
      parseEventPattern(p);
    } catch (e) {
      if (e instanceof AwsError) throw invalidPattern();
      throw e;
    }
    patterns.push(p);
  }
  return patterns;
}

/** SQS: whether a pattern holds where the body is (or is not) JSON; recurses into a top-level `$or`. */
function matchSqs(pattern: EventPattern, view: Record<string, unknown>, bodyIsJson: boolean): boolean {
  const { $or, ...rest } = pattern;
  if (Object.prototype.hasOwnProperty.call(rest, 'body') && Array.isArray(rest.body) === bodyIsJson)
    return false;
  if (Object.keys(rest).length > 0 && !matchesEventPattern(rest, view)) return false;
  if (Array.isArray($or)) return ($or as EventPattern[]).some((b) => matchSqs(b, view, bodyIsJson));
  return true;
}

function jsonBody(body: unknown): unknown {
  if (typeof body !== 'string') return undefined;
  const t = body.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** The matcher for stored patterns (from parseFilterCriteria); undefined when there are none. */
export function recordFilter(
  kind: EventSourceKind,
  patterns: string[] | undefined,
): RecordFilter | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  const parsed = patterns.map((p) => parseEventPattern(p));
  if (kind === 'sqs') {
    return (record) => {
      const parsedBody = jsonBody(record.body);
      const isJson = parsedBody !== undefined;
      const view = isJson ? { ...record, body: parsedBody } : record;
      return parsed.some((p) => matchSqs(p, view, isJson));
    };
  }
  return (record) => parsed.some((p) => matchesEventPattern(p, record));
}
