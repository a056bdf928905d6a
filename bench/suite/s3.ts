import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnPinned } from './procs.ts';
import { type BenchServer, stopper } from './server.ts';

export const S3_BUCKET = 'mailroom-bench-raw';

/**
 * s3rver in its own process on core 1 (with the client: it stands for AWS, not for the server under
 * test); resolves with its endpoint and a stop function.
 */
export async function startS3rver(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-bench-s3rver-'));
  const script = new URL('./s3rver-server.js', import.meta.url).pathname;
  const child = spawnPinned(1, process.execPath, [script, dir, S3_BUCKET], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stop = stopper(child, dir);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
      child.once('message', (msg: { port: number }) => resolve(msg.port));
    });
    return { endpoint: `http://127.0.0.1:${port}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export type { BenchServer };
