import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { stopChild } from './procs.ts';

/** A server of the ingest matrix, running pinned to core 0 on 127.0.0.1. */
export interface BenchServer {
  readonly port: number;
  /** The process whose CPU use tells whether the server is still working (null: not known). */
  readonly pid: number | null;
  /** Messages the server counted itself, when it can (null otherwise). */
  count(): Promise<number | null>;
  /** Waits until work left over from a run (a queue, a backlog) is done. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** `stop` for a server that is one child process (group) and a temporary directory. */
export function stopper(child: ChildProcess, dir: string | null): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= (async () => {
      await stopChild(child);
      if (dir) await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
}
