/**
 * ImportApiKeys' CSV file, as API Gateway documents it ("API Gateway API key file format"): a
 * header row naming the columns in any order and any case, `Name` and `Key` required,
 * `Description`, `Enabled` and `UsagePlanIds` optional, other columns ignored; a field may be
 * enclosed in double quotes (`""` inside for a quote) or, as the guide shows for several usage
 * plan ids, in single quotes. Unquoted fields are trimmed; blank lines are skipped.
 */
import { restErrors as errors } from './model.js';

/** One data record of the file: its number (1 for the first below the header) and its values. */
export interface ApiKeyRow {
  record: number;
  name: string;
  key: string;
  description: string;
  /** The `Enabled` text as written ('' when absent: enabled). */
  enabled: string;
  usagePlanIds: string[];
}

const COLUMNS = ['name', 'key', 'description', 'enabled', 'usageplanids'] as const;

/** Splits CSV text into rows of fields; a quote left open is a BadRequestException. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  let line = 1;
  const src = text.replace(/^\uFEFF/, '');
  const endRow = () => {
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
  };
  while (i <= src.length) {
    const c = src[i];
    if (c === '"' || c === "'") {
      const start = line;
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length)
          throw errors.badRequest(`Invalid CSV: the quoted field starting on line ${start} is not closed`);
        if (src[i] === c) {
          if (src[i + 1] === c) {
            v += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (src[i] === '\n') line++;
        v += src[i++];
      }
      // Anything between the closing quote and the next separator is kept, trimmed.
      let rest = '';
      while (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') rest += src[i++];
      row.push(v + rest.trim());
    } else {
      let v = '';
      while (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') v += src[i++];
      row.push(v.trim());
    }
    if (i >= src.length) {
      endRow();
      break;
    }
    if (src[i] === ',') {
      i++;
      // A separator at the very end of the text ends the row with an empty field.
      if (i >= src.length) {
        row.push('');
        endRow();
        break;
      }
      continue;
    }
    if (src[i] === '\r') i++;
    if (src[i] === '\n') i++;
    line++;
    endRow();
  }
  return rows;
}

/** The file's records by column; a missing Name or Key column is a BadRequestException. */
export function parseApiKeyFile(text: string): ApiKeyRow[] {
  const [header = [], ...records] = parseCsv(text);
  const at: Partial<Record<(typeof COLUMNS)[number], number>> = {};
  header.forEach((h, i) => {
    const name = h.toLowerCase() as (typeof COLUMNS)[number];
    if (COLUMNS.includes(name) && at[name] === undefined) at[name] = i;
  });
  if (at.name === undefined) throw errors.badRequest("Missing required column 'Name'");
  if (at.key === undefined) throw errors.badRequest("Missing required column 'Key'");
  const col = (r: string[], c: (typeof COLUMNS)[number]) => (at[c] === undefined ? '' : (r[at[c]] ?? ''));
  return records.map((r, n) => ({
    record: n + 1,
    name: col(r, 'name'),
    key: col(r, 'key'),
    description: col(r, 'description'),
    enabled: col(r, 'enabled'),
    usagePlanIds: col(r, 'usageplanids')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  }));
}

/** Why a record cannot be imported (the text after `Skipped invalid record: {n}. `), or undefined. */
export function apiKeyRowProblem(row: ApiKeyRow, planExists: (id: string) => boolean): string | undefined {
  if (row.key.length < 20) return 'API Key value should be at least 20 characters';
  if (row.key.length > 128) return 'API Key value should be at most 128 characters';
  if (!row.name) return 'API Key name should not be empty';
  if (row.name.length > 1024) return 'API Key name should be at most 1024 characters';
  if (row.enabled && !/^(true|false)$/i.test(row.enabled))
    return `Invalid value for Enabled: ${row.enabled}. Must be true or false`;
  const unknown = row.usagePlanIds.find((id) => !planExists(id));
  if (unknown !== undefined) return `Invalid Usage Plan ID specified: ${unknown}`;
  return undefined;
}
