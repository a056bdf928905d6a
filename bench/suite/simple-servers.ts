import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { captureStderr, findCommand, freePort, settleCpu, spawnPinned, waitForGreeting } from './procs.ts';
import { type BenchServer, stopper } from './server.ts';

/** Postfix's smtp-sink: answers everything, keeps nothing — the ceiling of what one core can take. */
export async function startSmtpSink(): Promise<BenchServer> {
  const sink = findCommand('smtp-sink');
  if (!sink) throw new Error('smtp-sink not found (apt-get install postfix)');
  const port = await freePort();
  // As root smtp-sink must drop privileges after binding.
  const user = userInfo().uid === 0 ? ['-u', 'nobody'] : [];
  const child = spawnPinned(0, sink, [...user, `127.0.0.1:${port}`, '1024']);
  const err = captureStderr(child);
  try {
    await waitForGreeting(port, 20_000, child);
  } catch (cause) {
    await stopper(child, null)();
    throw new Error(`smtp-sink did not start: ${err.text().trim()}`, { cause });
  }
  return {
    port,
    pid: child.pid ?? null,
    count: async () => null,
    settle: async () => {},
    stop: stopper(child, null),
  };
}

/** smtp-server alone (bench/suite/bare-server.js): `discard`, or `fsync` (a file per message, fsynced). */
export async function startBare(mode: 'discard' | 'fsync'): Promise<BenchServer> {
  const dir = await mkdtemp(join(tmpdir(), `mailroom-bench-bare-${mode}-`));
  const script = new URL('./bare-server.js', import.meta.url).pathname;
  const child = spawnPinned(0, process.execPath, [script, mode, dir], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stop = stopper(child, dir);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bare-server ${mode} exited with ${code}`)));
      child.once('message', (msg: { type: string; port: number }) => resolve(msg.port));
    });
  } catch (err) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid: child.pid ?? null,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (msg: { type: string; value: number }) => resolve(msg.value));
        child.send('count');
      }),
    settle: async () => {
      if (child.pid) await settleCpu(child.pid, 10_000);
    },
    stop,
  };
}
