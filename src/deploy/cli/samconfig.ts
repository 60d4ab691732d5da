/**
 * `samconfig.toml` defaults (as `sam deploy` reads them) and the `K=V` / `ParameterKey=K,ParameterValue=V`
 * forms of `--parameter-overrides` and `--tags`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';

export interface SamConfig {
  stackName?: string;
  templateFile?: string;
  region?: string;
  parameterOverrides: Record<string, string>;
  capabilities: string[];
  tags: Record<string, string>;
}

/**
 * Splits a string the way a shell would split words: whitespace separates, single and double
 * quotes group (and are removed), a backslash escapes the next character outside single quotes.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in "${text}"`);
  if (inWord) words.push(cur);
  return words;
}

/**
 * `K=V` words (or `ParameterKey=K,ParameterValue=V`) into a map. A string is split like a shell
 * would (`K=V K2="v w"`); a list is taken word by word.
 */
export function parseKeyValues(
  input: string | readonly string[] | undefined,
  what = 'parameter',
): Record<string, string> {
  const out: Record<string, string> = {};
  if (input === undefined) return out;
  // In a list each item is one word (quotes around a value are removed).
  const words =
    typeof input === 'string'
      ? splitWords(input)
      : input.map((w) => {
          try {
            const split = splitWords(w);
            return split.length === 1 ? split[0] : w;
          } catch {
            return w;
          }
        });
  for (const word of words) {
    const long = /^ParameterKey=([^,]+),ParameterValue=(.*)$/s.exec(word);
    if (long) {
      out[long[1]] = long[2];
      continue;
    }
    const eq = word.indexOf('=');
    if (eq <= 0) throw new Error(`invalid ${what} "${word}": expected KEY=VALUE`);
    out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}

function asList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return splitWords(String(v));
}

function asWords(v: unknown): string | string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v.map(String) : String(v);
}

/**
 * Reads `[ENV.global.parameters]` then `[ENV.deploy.parameters]` (deploy wins) from the file;
 * a missing file is an empty config.
 */
export function loadSamConfig(file: string, env = 'default'): SamConfig {
  const empty: SamConfig = { parameterOverrides: {}, capabilities: [], tags: {} };
  if (!existsSync(file)) return empty;
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const section = (cmd: string): Record<string, unknown> => {
    const envTable = doc[env] as Record<string, Record<string, Record<string, unknown>>> | undefined;
    return envTable?.[cmd]?.parameters ?? {};
  };
  const merged = { ...section('global'), ...section('deploy') };
  return {
    stackName: merged.stack_name === undefined ? undefined : String(merged.stack_name),
    templateFile: merged.template_file === undefined ? undefined : String(merged.template_file),
    region: merged.region === undefined ? undefined : String(merged.region),
    parameterOverrides: parseKeyValues(asWords(merged.parameter_overrides)),
    capabilities: asList(merged.capabilities),
    tags: parseKeyValues(asWords(merged.tags), 'tag'),
  };
}
