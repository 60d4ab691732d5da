/**
 * Reads a template file as the CLI needs it: parsed by the template engine (JSON, or YAML
 * with CloudFormation's short-form tags), so the rewritten template can be sent as JSON.
 */
import { readFileSync } from 'node:fs';
import { parseTemplate } from '../template/index.js';
import type { Template } from '../types.js';

/** Parses template text (JSON or YAML). Throws with CloudFormation's message on bad syntax. */
export function parseTemplateText(text: string): Template {
  const t = parseTemplate(text);
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
