import { constants } from 'node:os';
import { Worker } from 'node:worker_threads';

/** One file a checkpoint writes: through `tmp`, renamed to `path`. */
export interface CheckpointFile {
  path: string;
  tmp: string;
  data: Uint8Array;
}

// Runs in a worker thread (plain CommonJS, evaluated from this string so it needs no TypeScript loader).
// Writes each file through its temp name, then makes the batch durable with one syncfs (coreutils
// `sync --file-system`), or with an fdatasync per file and an fsync per directory where that is missing.
// The syncfs runs in a small shell started once per directory, which starts `sync` for each request: a
// process of its own size forks, not this one. (A fork of the server, hundreds of MB, costs milliseconds
// and leaves every page of the server copy-on-write, so each thread then takes a page fault per page it
// writes to.) First it takes the priority it is given (Linux: a thread's nice value, set through its
// kernel tid; the shell and its `sync` inherit it); where the system refuses, it keeps the process's.
// Batches are written one after another, in the order they come.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
if (workerData.priority !== null) {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, workerData.priority);
  } catch {}
}
function findOnPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try { fs.accessSync(candidate, fs.constants.X_OK); return candidate; } catch {}
  }
  return null;
}
const syncBin = findOnPath('sync');
const shell = fs.existsSync('/bin/sh') ? '/bin/sh' : null;
let syncfs = syncBin !== null && shell !== null;
// One line in, one line out: "ok" when "sync --file-system DIR" succeeded.
const SYNC_LOOP = 'while read -r _; do if "$0" --file-system -- "$1"; then echo ok; else echo fail; fi; done';
const helpers = new Map();
function helperFor(dir) {
  const existing = helpers.get(dir);
  if (existing && !existing.dead) return existing;
  const child = spawn(shell, ['-c', SYNC_LOOP, syncBin, dir], { stdio: ['pipe', 'pipe', 'ignore'] });
  const helper = { child, waiters: [], buffered: '', dead: false };
  const stop = () => {
    helper.dead = true;
    for (const waiter of helper.waiters.splice(0)) waiter(false);
  };
  child.on('error', stop);
  child.on('exit', stop);
  child.stdin.on('error', stop);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    helper.buffered += text;
    let end;
    while ((end = helper.buffered.indexOf('\\n')) >= 0) {
      const line = helper.buffered.slice(0, end);
      helper.buffered = helper.buffered.slice(end + 1);
      helper.waiters.shift()?.(line === 'ok');
    }
  });
  helpers.set(dir, helper);
  return helper;
}
function syncFileSystem(dir) {
  return new Promise((resolve) => {
    const helper = helperFor(dir);
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(ok);
    };
    // A sync that hangs (a stuck file system) fails this batch over to fdatasync, as a failed one does.
    const timer = setTimeout(() => { helper.child.kill('SIGKILL'); finish(false); }, 60000);
    helper.waiters.push(finish);
    helper.child.stdin.write('\\n');
  });
}
function fsyncPath(p, data) {
  const fd = fs.openSync(p, 'r');
  try { data ? fs.fdatasyncSync(fd) : fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}
async function writeBatch({ packed, files, syncDir }) {
  const bytes = new Uint8Array(packed);
  for (const f of files) {
    let fd = fs.openSync(f.tmp, 'wx', 0o600);
    try {
      let at = 0;
      while (at < f.length) at += fs.writeSync(fd, bytes, f.offset + at, f.length - at);
      const closing = fd;
      fd = -1; // the number may be reused by another thread's open once closed
      fs.closeSync(closing);
      fs.renameSync(f.tmp, f.path);
    } catch (err) {
      // A full disk must not leave temp files behind: the next checkpoint writes the file again.
      if (fd >= 0) try { fs.closeSync(fd); } catch {}
      try { fs.unlinkSync(f.tmp); } catch {}
      throw err;
    }
  }
  if (syncfs && (await syncFileSystem(syncDir))) return;
  // No syncfs here (or it failed once): an fdatasync per file and an fsync per directory from now on.
  syncfs = false;
  const dirs = new Set();
  for (const f of files) { fsyncPath(f.path, true); dirs.add(path.dirname(f.path)); }
  for (const d of dirs) fsyncPath(d, false);
}
let queue = Promise.resolve();
parentPort.on('message', (batch) => {
  queue = queue.then(() => writeBatch(batch)).then(
    () => parentPort.postMessage({ seq: batch.seq, ok: true }),
    (err) => parentPort.postMessage({ seq: batch.seq, ok: false, message: String(err && err.message || err), code: err && err.code }),
  );
});
`;

export interface CheckpointWriterOptions {
  /**
   * Scheduling priority (nice value, -20…19) of the writing thread where a thread can have its own (Linux).
   * Below the SMTP thread's by default: writing journaled messages out as files can wait (they are durable
   * in the journal already), so on a busy core the `250`s come first, and the files follow in the pauses.
   * null leaves the process's.
   * @default os.constants.priority.PRIORITY_BELOW_NORMAL (10)
   */
  threadPriority?: number | null;
}

/**
 * Writes checkpoint batches off the main thread: a batch of thousands of small files costs the event
 * loop one message, so SMTP sessions keep their CPU while the journal is written out as files.
 * The worker does not keep the process alive.
 */
export class CheckpointWriter {
  readonly #priority: number | null;
  #worker: Worker | null = null;
  #seq = 0;
  readonly #pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(options: CheckpointWriterOptions = {}) {
    this.#priority =
      options.threadPriority === undefined
        ? constants.priority.PRIORITY_BELOW_NORMAL
        : options.threadPriority;
  }

  /** Resolves once every file is in place and durable. */
  write(files: CheckpointFile[], syncDir: string): Promise<void> {
    const total = files.reduce((n, f) => n + f.data.length, 0);
    const packed = new Uint8Array(total);
    const meta: Array<{ path: string; tmp: string; offset: number; length: number }> = [];
    let offset = 0;
    for (const f of files) {
      packed.set(f.data, offset);
      meta.push({ path: f.path, tmp: f.tmp, offset, length: f.data.length });
      offset += f.data.length;
    }
    const worker = this.#start();
    const seq = ++this.#seq;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      worker.ref(); // keep the process up while a batch is being made durable
      worker.postMessage({ seq, packed: packed.buffer, files: meta, syncDir }, [packed.buffer]);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    if (worker) await worker.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { priority: this.#priority } });
    worker.unref();
    worker.on('message', (msg: { seq: number; ok: boolean; message?: string; code?: string }) => {
      const waiter = this.#pending.get(msg.seq);
      this.#pending.delete(msg.seq);
      if (this.#pending.size === 0) worker.unref();
      if (!waiter) return;
      if (msg.ok) waiter.resolve();
      else
        waiter.reject(Object.assign(new Error(msg.message ?? 'checkpoint write failed'), { code: msg.code }));
    });
    worker.on('error', (err) => {
      for (const w of this.#pending.values()) w.reject(err);
      this.#pending.clear();
      this.#worker = null;
    });
    this.#worker = worker;
    return worker;
  }
}
