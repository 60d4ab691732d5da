/** `Fn::Cidr`: `count` consecutive subnets of `ipBlock`, each with `cidrBits` host bits (IPv4 and IPv6). */
import { TemplateError } from '../types.js';

function parseV4(ip: string): bigint | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseV6(ip: string): bigint | undefined {
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function formatV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}

function formatV6(n: bigint): string {
  const groups = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((n >> s) & 0xffffn).toString(16));
  // Compress the longest run of two or more zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function cidr(ipBlock: string, count: number, cidrBits: number): string[] {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(ipBlock);
  const v4 = m ? parseV4(m[1]) : undefined;
  const v6 = m && v4 === undefined ? parseV6(m[1]) : undefined;
  const width = v4 !== undefined ? 32 : 128;
  const address = v4 ?? v6;
  const prefix = m ? Number(m[2]) : NaN;
  if (address === undefined || !(prefix <= width)) {
    throw new TemplateError(`Template error: Fn::Cidr requires a valid CIDR block, found ${ipBlock}`);
  }
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    throw new TemplateError('Template error: Fn::Cidr requires a count between 1 and 256');
  }
  const subnetPrefix = width - cidrBits;
  if (!Number.isInteger(cidrBits) || cidrBits < 1 || subnetPrefix < prefix) {
    throw new TemplateError(
      `Template error: Fn::Cidr cannot make subnets with ${cidrBits} host bits in ${ipBlock}`,
    );
  }
  const available = 1n << BigInt(subnetPrefix - prefix);
  if (BigInt(count) > available) {
    throw new TemplateError(
      `Template error: Fn::Cidr cannot make ${count} subnets of /${subnetPrefix} in ${ipBlock}`,
    );
  }
  const size = 1n << BigInt(cidrBits);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - prefix)) - 1n);
  const network = address & mask;
  const format = v4 !== undefined ? formatV4 : formatV6;
  const out: string[] = [];
  for (let i = 0n; i < BigInt(count); i++) out.push(`${format(network + i * size)}/${subnetPrefix}`);
  return out;
}
