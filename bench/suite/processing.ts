import { REPO } from './mailroom.ts';
import { captureStderr, spawnPinned, stopChild } from './procs.ts';
import type { ProcessingResult } from './types.ts';

/** Runs bench/suite/processing-worker.ts pinned to core 0 and reads its JSON line. */
export async function runProcessing(messages: number, rounds: number): Promise<ProcessingResult> {
  const script = new URL('./processing-worker.ts', import.meta.url).pathname;
  const child = spawnPinned(
    0,
    process.execPath,
    ['--import', 'tsx', script, String(messages), String(rounds)],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const err = captureStderr(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const timer = setTimeout(() => void stopChild(child), 600_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const line = out.trim().split('\n').at(-1);
  if (code !== 0 || !line) {
    throw new Error(
      `processing bench failed (${code}): ${err.text().trim().split('\n').slice(-5).join(' ')}`,
    );
  }
  return JSON.parse(line) as ProcessingResult;
}
