/**
 * GetModelTemplate (REST APIs and WebSocket APIs): a sample VTL mapping template that turns a
 * payload into the structure of a model, generated from the model's JSON schema the way API
 * Gateway lays it out: `#set($inputRoot = $input.path('$'))`, then the schema's shape with each
 * string member quoted (`"name" : "$inputRoot.name"`), numbers, integers and booleans bare,
 * nested objects inline and arrays as a `#foreach` over their items. A `$ref` to another model
 * of the API (`https://apigateway.amazonaws.com/restapis/{api}/models/{name}`, or `#/definitions/X`)
 * is expanded in place; a model met again inside itself is written as `{}`.
 */
type Schema = Record<string, any>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The model named at the end of a `$ref`. */
function refName(ref: string): string {
  return decodeURIComponent(ref.replace(/\/+$/, '').split('/').pop() ?? '');
}

/** The template for `schema` (a model's JSON text); `models` resolves the `$ref`s by model name. */
export function modelTemplate(schemaText: string, models: (name: string) => string | undefined): string {
  let root: Schema;
  try {
    root = JSON.parse(schemaText) as Schema;
  } catch {
    root = {};
  }
  const lines: string[] = ["#set($inputRoot = $input.path('$'))"];
  let depth = 0; // for the #foreach variables: $elem, $elem1, ...
  const seen: string[] = [];

  const resolve = (s: Schema | undefined): [Schema, string | undefined] => {
    if (!s || typeof s !== 'object') return [{}, undefined];
    if (typeof s.$ref !== 'string') return [s, undefined];
    const name = refName(s.$ref);
    if (s.$ref.startsWith('#/') && root.definitions?.[name]) return [root.definitions[name] as Schema, name];
    const text = models(name);
    if (text === undefined) return [{}, name];
    try {
      return [JSON.parse(text) as Schema, name];
    } catch {
      return [{}, name];
    }
  };

  const kind = (s: Schema): string => {
    const t = Array.isArray(s.type) ? s.type.find((x: string) => x !== 'null') : s.type;
    if (typeof t === 'string') return t;
    if (s.properties) return 'object';
    if (s.items) return 'array';
    return 'string';
  };

  const member = (ref: string, name: string) =>
    IDENTIFIER.test(name) ? `${ref}.${name}` : `${ref}.get('${name.replace(/'/g, "''")}')`;

  /** Lines for the value of `ref`, whose first line follows `lead` (the text before it on its line). */
  const value = (schema: Schema | undefined, ref: string, indent: string, lead: string, tail: string) => {
    const [s, name] = resolve(schema);
    if (name !== undefined && seen.includes(name)) {
      lines.push(`${indent}${lead}{}${tail}`);
      return;
    }
    if (name !== undefined) seen.push(name);
    const t = kind(s);
    if (t === 'object') {
      const props = Object.entries((s.properties ?? {}) as Record<string, Schema>);
      lines.push(`${indent}${lead}{`);
      props.forEach(([key, sub], i) =>
        value(
          sub,
          member(ref, key),
          indent + '  ',
          `${JSON.stringify(key)} : `,
          i < props.length - 1 ? ',' : '',
        ),
      );
      lines.push(`${indent}}${tail}`);
    } else if (t === 'array') {
      const elem = depth === 0 ? '$elem' : `$elem${depth}`;
      depth++;
      lines.push(`${indent}${lead}[`);
      lines.push(`#foreach(${elem} in ${ref})`);
      value(s.items as Schema, elem, indent + '  ', '', '#if($foreach.hasNext),#end');
      lines.push('#end');
      lines.push(`${indent}]${tail}`);
      depth--;
    } else if (t === 'number' || t === 'integer' || t === 'boolean') {
      lines.push(`${indent}${lead}${ref}${tail}`);
    } else {
      lines.push(`${indent}${lead}"${ref}"${tail}`);
    }
    if (name !== undefined) seen.pop();
  };

  value(root, '$inputRoot', '', '', '');
  return lines.join('\n');
}
