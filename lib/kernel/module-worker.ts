import { Worker, type WorkerOptions } from 'node:worker_threads';

// Evaluated as the worker's script, so the worker needs no loader to start: from the TypeScript sources
// (tsx, vitest) it registers tsx before importing the entry; from compiled JavaScript it imports it as is.
// Only dynamic import(): the script runs as CommonJS, or as a module under `--input-type=module`.
const BOOTSTRAP = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => setTimeout(() => { throw err; }));
`;

/**
 * Starts a worker thread running the module at `entry` (a file URL or path; a `.ts` one is loaded through
 * tsx). `data` reaches the module as `workerData.data`.
 */
export function startModuleWorker(
  entry: string,
  options: Omit<WorkerOptions, 'eval' | 'workerData'> & { data?: unknown } = {},
): Worker {
  const { data, ...rest } = options;
  return new Worker(BOOTSTRAP, {
    ...rest,
    eval: true,
    workerData: {
      entry,
      tsx: entry.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : null,
      ...(data === undefined ? {} : { data }),
    },
  });
}

/**
 * A copy of `bytes` in an ArrayBuffer of its own, to transfer to a worker (`postMessage(msg, [copy])`): the
 * caller's buffer may be shared (a Buffer pool slice, the journal's pending bytes) and stays as it is.
 */
export function transferableCopy(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/**
 * `bytes`' own ArrayBuffer when they fill it (no offset, nothing else in it: not a slice of Node's Buffer
 * pool), to transfer as it is; else a {@link transferableCopy}. Only for bytes nobody else holds: the
 * transfer empties every view of that ArrayBuffer.
 */
export function transferable(bytes: Uint8Array): ArrayBuffer {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) {
    return buffer;
  }
  return transferableCopy(bytes);
}
