/** Shared bits of the gateway end-to-end tests. */
import AdmZip from 'adm-zip';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
export const FN = 'arn:aws:lambda:us-east-1:000000000000:function:';

export function zip(files: Record<string, string>): Uint8Array {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}
