/**
 * The little XML S3 needs: rendering replies (`<Root xmlns>...</Root>`) and reading the few
 * request bodies it accepts (CreateBucketConfiguration, Delete, CompleteMultipartUpload), which
 * are flat enough for a tag scanner.
 */
import { escapeXml, renderContent } from '../protocols/xml.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function xmlDocument(root: string, content: unknown): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XMLNS}">${renderContent(content)}</${root}>`;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

/** The inner XML of each `<name>...</name>` (or `<name/>`) element directly or deeply inside `xml`. */
export function elements(xml: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${name}>)`, 'g');
  for (const m of xml.matchAll(re)) out.push(m[1] ?? '');
  return out;
}

/** The text of the first `<name>` element, unescaped; undefined when absent. */
export function text(xml: string, name: string): string | undefined {
  const e = elements(xml, name);
  return e.length ? unescapeXml(e[0]) : undefined;
}

export { escapeXml };
