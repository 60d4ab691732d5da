/**
 * Reads a template file as the CLI needs it (JSON, or YAML with CloudFormation's short-form
 * tags `!Ref`, `!Sub`, `!GetAtt a.b`, ...): short forms become the long `{ "Fn::X": ... }` form,
 * so the rewritten template can be sent to CloudFormation as JSON.
 */
import { readFileSync } from 'node:fs';
import { parse, type ScalarTag, type CollectionTag, YAMLMap, YAMLSeq } from 'yaml';
import type { Template } from '../types.js';

const FN_TAGS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'ToJsonString',
  'Length',
];

function keyFor(name: string): string {
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

function getAttScalar(s: string): string[] {
  const dot = s.indexOf('.');
  return dot < 0 ? [s] : [s.slice(0, dot), s.slice(dot + 1)];
}

function tagsFor(name: string): (ScalarTag | CollectionTag)[] {
  const key = keyFor(name);
  const scalar: ScalarTag = {
    tag: `!${name}`,
    identify: () => false,
    resolve: (s: string) => ({ [key]: name === 'GetAtt' ? getAttScalar(s) : s }),
  };
  const seq: CollectionTag = {
    tag: `!${name}`,
    collection: 'seq',
    identify: () => false,
    resolve: (v) => ({ [key]: (v as YAMLSeq).toJSON() }) as never,
  };
  const map: CollectionTag = {
    tag: `!${name}`,
    collection: 'map',
    identify: () => false,
    resolve: (v) => ({ [key]: (v as YAMLMap).toJSON() }) as never,
  };
  return [scalar, seq, map];
}

const CUSTOM_TAGS = ['Ref', 'Condition', 'GetAtt', ...FN_TAGS].flatMap(tagsFor);

/** Parses template text (JSON or YAML). Throws with the file's problem on bad syntax. */
export function parseTemplateText(text: string): Template {
  const trimmed = text.trimStart();
  const value: unknown = trimmed.startsWith('{')
    ? JSON.parse(text)
    : parse(text, { customTags: CUSTOM_TAGS, maxAliasCount: -1 });
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('Template format error: the template is not a JSON or YAML object');
  }
  const t = value as Template;
  if (!t.Resources || typeof t.Resources !== 'object') {
    throw new Error('Template format error: At least one Resources member must be defined.');
  }
  return t;
}

export function loadTemplateFile(path: string): Template {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read template ${path}: ${(e as Error).message}`);
  }
  try {
    return parseTemplateText(text);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
