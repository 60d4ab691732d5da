/** An HTTP GET whose body chunks are timestamped as they arrive (for tests of streamed responses). */
import { request } from 'node:http';

export interface Timed {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  chunks: { at: number; data: string }[];
  body: string;
  aborted: boolean;
}

export function timedGet(url: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const out: Timed = {
        status: res.statusCode!,
        headers: res.headers,
        chunks: [],
        body: '',
        aborted: false,
      };
      res.on('data', (c: Buffer) => out.chunks.push({ at: Date.now(), data: c.toString('utf8') }));
      const done = () => {
        out.body = out.chunks.map((c) => c.data).join('');
        resolve(out);
      };
      res.on('end', done);
      res.on('aborted', () => (out.aborted = true));
      res.on('error', () => {
        out.aborted = true;
        done();
      });
    });
    req.on('error', reject);
    req.end();
  });
}
