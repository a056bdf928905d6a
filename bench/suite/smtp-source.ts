import { spawn } from 'node:child_process';
import { findCommand } from './procs.ts';
import type { ConnectionMode } from './types.ts';

export interface SourceRun {
  sessions: number;
  messages: number;
  size: number;
  mode: ConnectionMode;
}

/** The smtp-source command line (without the program): Postfix's load generator. */
export function sourceArgs(port: number, run: SourceRun): string[] {
  return [
    '-s',
    String(run.sessions),
    '-m',
    String(run.messages),
    '-l',
    String(run.size),
    ...(run.mode === 'reuse' ? ['-d'] : []),
    '-M',
    'client.test',
    '-f',
    'sender@client.test',
    '-t',
    'support@example.com',
    `127.0.0.1:${port}`,
  ];
}

/**
 * Runs `smtp-source` pinned to core 1 against 127.0.0.1:port; resolves with the seconds it took. It exits
 * non-zero (and this rejects) on any reply other than the expected one, so a resolved run means every
 * message was answered 250.
 */
export function runSource(port: number, run: SourceRun, timeoutMs = 180_000): Promise<number> {
  const smtpSource = findCommand('smtp-source');
  if (!smtpSource) return Promise.reject(new Error('smtp-source not found (apt-get install postfix)'));
  const taskset = findCommand('taskset');
  const args = sourceArgs(port, run);
  const [file, argv] = taskset ? [taskset, ['-c', '1', smtpSource, ...args]] : [smtpSource, args];
  return new Promise((resolve, reject) => {
    const startedAt = process.hrtime.bigint();
    const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      if (code === 0) resolve(seconds);
      else
        reject(
          new Error(`smtp-source exited with ${code ?? signal}: ${stderr.trim().split('\n').at(-1) ?? ''}`),
        );
    });
  });
}
