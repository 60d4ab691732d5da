/**
 * The value at a simple JSON path in parsed JSON: dotted names and list indexes (`a.b[0].c`;
 * leading dots are ignored, so `$`-rooted paths pass without their `$`). Undefined when absent.
 * EventBridge's InputPath / InputPathsMap and HTTP API parameter mapping's `$request.body.…` use it.
 */
export function valueAtPath(doc: unknown, path: string): unknown {
  let v = doc;
  for (const step of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (v === null || typeof v !== 'object') return undefined;
    v = step.startsWith('[')
      ? (v as unknown[])[Number(step.slice(1, -1))]
      : (v as Record<string, unknown>)[step];
  }
  return v;
}
