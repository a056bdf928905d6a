import { close, closeSync, fdatasync, fdatasyncSync, open, openSync } from 'node:fs';

/**
 * Group commit of a SQLite WAL file, off the event loop: {@link wait} resolves once an `fdatasync` of the
 * WAL that began after the call has finished, so everything committed to the WAL before it is on disk.
 * One sync runs at a time; every caller that arrived while it ran shares the next one.
 *
 * Why this is enough: in WAL mode a commit appends its frames to the WAL (with `synchronous = NORMAL`,
 * without syncing them); a crash or power loss keeps every commit whose frames reached the disk, in order,
 * and drops a trailing torn one by its checksum. Syncing the WAL after a commit is what `synchronous = FULL`
 * does inside the commit — here the event loop does not wait for the disk while it happens.
 */
export class WalSync {
  readonly #path: string | null;
  #running = false;
  #waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];

  /** @param path the WAL file (`<db>-wal`), or null for a database without one (`:memory:`). */
  constructor(path: string | null) {
    this.#path = path;
  }

  /** Resolves once everything written to the WAL before this call is on disk; rejects when the sync failed. */
  wait(): Promise<void> {
    if (this.#path === null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#next();
    });
  }

  /** Syncs now, on this thread, and settles every waiting caller (before the connection closes). */
  syncNow(): void {
    if (this.#path === null || this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    try {
      const fd = openSync(this.#path, 'r+');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        for (const w of waiting) w.reject(err);
        return;
      }
    }
    for (const w of waiting) w.resolve();
  }

  #next(): void {
    if (this.#running || this.#waiting.length === 0 || this.#path === null) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#running = true;
    syncFile(this.#path, (err) => {
      this.#running = false;
      for (const w of waiting) {
        if (err) w.reject(err);
        else w.resolve();
      }
      this.#next();
    });
  }
}

/** open → fdatasync → close on libuv's thread pool; a file opened per sync, so no descriptor outlives it. */
function syncFile(path: string, done: (err: NodeJS.ErrnoException | null) => void): void {
  open(path, 'r+', (openErr, fd) => {
    if (openErr) {
      // No WAL file: nothing was written, or the last connection closed and checkpointed it into the
      // database (which SQLite syncs) and removed it.
      done(openErr.code === 'ENOENT' ? null : openErr);
      return;
    }
    fdatasync(fd, (syncErr) => {
      close(fd, () => done(syncErr));
    });
  });
}
