/**
 * Template bodies: JSON, or YAML with CloudFormation's short-form tags (`!Ref`, `!Sub`, ...),
 * each turned into its long form (`{ "Fn::Sub": ... }`, `{ Ref: ... }`, `{ Condition: ... }`).
 *
 * YAML follows YAML 1.1 as CloudFormation reads it (`yes`/`no`/`on`/`off` are booleans), except
 * that dates such as `2010-09-09` and sexagesimal numbers stay strings.
 */
import { Pair, Scalar, YAMLMap, isNode, parseDocument } from 'yaml';
import type { CollectionTag, ScalarTag, Tags } from 'yaml';
import { TemplateError, type Template } from '../types.js';

/** Short-form tag -> long-form key. */
const SHORT_FORMS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  GetAtt: 'Fn::GetAtt',
  Sub: 'Fn::Sub',
  Join: 'Fn::Join',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Not: 'Fn::Not',
  FindInMap: 'Fn::FindInMap',
  GetAZs: 'Fn::GetAZs',
  Base64: 'Fn::Base64',
  Cidr: 'Fn::Cidr',
  ImportValue: 'Fn::ImportValue',
  Transform: 'Fn::Transform',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
};

function wrap(key: string, value: unknown): YAMLMap {
  const map = new YAMLMap();
  map.items.push(new Pair(new Scalar(key), isNode(value) ? value : new Scalar(value)));
  return map;
}

function cfnTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  for (const [short, long] of Object.entries(SHORT_FORMS)) {
    const tag = `!${short}`;
    tags.push({
      tag,
      // A scalar tag may answer a node: the scalar then holds a mapping, which toJS() turns into an object.
      resolve(str: string) {
        if (short === 'GetAtt') {
          const dot = str.indexOf('.');
          return dot < 0 ? { [long]: [str] } : { [long]: [str.slice(0, dot), str.slice(dot + 1)] };
        }
        return { [long]: str };
      },
    } as ScalarTag);
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag,
        collection,
        resolve: (coll: unknown) => wrap(long, coll),
      } as unknown as CollectionTag);
    }
  }
  return tags;
}

const BOOL = 'tag:yaml.org,2002:bool';

/** YAML 1.1 booleans without the single letters `y` / `n` (which stay strings, as in CloudFormation). */
const booleans: ScalarTag[] = [
  { tag: BOOL, default: true, test: /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/, resolve: () => true },
  { tag: BOOL, default: true, test: /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/, resolve: () => false },
];

/** YAML 1.1's float pattern accepts a lone `.`; templates mean the folder (`CodeUri: .`). */
const dotIsAString: ScalarTag = {
  tag: 'tag:yaml.org,2002:str',
  default: true,
  test: /^\.$/,
  resolve: (s: string) => s,
};

/** YAML 1.1 tags without timestamps and sexagesimal numbers, plus the CloudFormation tags. */
function customTags(tags: Tags): Tags {
  const kept = tags.filter((t) => {
    const tag = t as { tag?: string; format?: string };
    return tag.tag !== 'tag:yaml.org,2002:timestamp' && tag.format !== 'TIME' && tag.tag !== BOOL;
  });
  return [...booleans, dotIsAString, ...kept, ...cfnTags()];
}

function lineColumn(body: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < body.length; i++) {
    if (body.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    const msg = err instanceof Error ? err.message : '';
    let pos: { line: number; column: number };
    const lc = /\(line (\d+) column (\d+)\)/.exec(msg);
    const at = /at position (\d+)/.exec(msg);
    if (lc) pos = { line: Number(lc[1]), column: Number(lc[2]) };
    else if (at) pos = lineColumn(body, Number(at[1]));
    else pos = lineColumn(body, body.length);
    throw new TemplateError(
      `Template format error: JSON not well-formed. (line ${pos.line}, column ${pos.column})`,
    );
  }
}

function parseYaml(body: string): unknown {
  const doc = parseDocument(body, {
    version: '1.1',
    customTags,
    merge: true,
    prettyErrors: true,
  });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0] ?? lineColumn(body, error.pos[0]);
    const line = 'line' in pos ? pos.line : 1;
    const column = 'col' in pos ? pos.col : (pos as { column: number }).column;
    throw new TemplateError(`Template format error: YAML not well-formed. (line ${line}, column ${column})`);
  }
  // Unknown `!Tags` are warnings for the yaml package; CloudFormation refuses them.
  const unknownTag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (unknownTag) {
    const pos = unknownTag.linePos?.[0] ?? { line: 1, col: 1 };
    throw new TemplateError(
      `Template format error: YAML not well-formed. (line ${pos.line}, column ${pos.col})`,
    );
  }
  return doc.toJS({ maxAliasCount: 10000 });
}

/** Parse a template body (JSON when it starts with `{`, YAML otherwise). */
export function parseTemplate(body: string): Template {
  const trimmed = body.replace(/^\uFEFF/, '').trimStart();
  const value = trimmed.startsWith('{') ? parseJson(trimmed) : parseYaml(body.replace(/^\uFEFF/, ''));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TemplateError('Template format error: unsupported structure.');
  }
  return value as Template;
}
