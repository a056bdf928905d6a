import { type FileHandle, open } from 'node:fs/promises';

/** Writes every byte of `chunks` (`fs` writes may be partial), returns `total`. */
export async function writeAll(file: FileHandle, chunks: Uint8Array[], total: number): Promise<number> {
  let rest = chunks;
  let left = total;
  while (left > 0) {
    const { bytesWritten } = await file.writev(rest);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    left -= bytesWritten;
    if (left > 0) rest = skipBytes(rest, bytesWritten);
  }
  return total;
}

function skipBytes(chunks: Uint8Array[], count: number): Uint8Array[] {
  let skip = count;
  let i = 0;
  while (i < chunks.length && skip >= chunks[i]!.length) {
    skip -= chunks[i]!.length;
    i++;
  }
  const rest = chunks.slice(i);
  if (skip > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}

/** fsync of a file or directory by path (a directory's fsync makes its entries' names durable). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
