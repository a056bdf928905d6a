/**
 * Parse throughput: `parseMessage` over every corpus message, N passes, alternating two checkouts of
 * lib/message in one process, message by message (A then B for each file, the order swapped every pass),
 * so machine noise hits both alike.
 *
 *   npm run bench:parse -- <otherCheckout> [rounds=4]   (e.g. a `git worktree` of the commit to compare with)
 *
 * Prints ms per pass for each and the ratio this checkout / the other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Parse = (raw: Buffer) => Promise<unknown>;

const corpora = resolve(process.env.MAILROOM_CORPORA ?? resolve(import.meta.dirname, '../../shared/corpora'));
if (!process.argv[2]) {
  console.error('usage: npm run bench:parse -- <other checkout of this repository> [rounds]');
  process.exit(2);
}
const other = resolve(process.argv[2]);
const rounds = Number(process.argv[3] ?? 4);
const SKIP = /\.(json|xml|py|rb|go|rs|js|ts|md|ya?ml|csv|pem|key|png|jpe?g|gif|pdf|zip|bin|html|golden)$/i;

function walk(dir: string, out: Buffer[]): Buffer[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile() && !SKIP.test(entry.name)) out.push(readFileSync(path));
  }
  return out;
}

async function load(root: string): Promise<Parse> {
  const mod = (await import(pathToFileURL(join(root, 'lib/message/index.ts')).href)) as {
    parseMessage: Parse;
  };
  return mod.parseMessage;
}

/** One pass over the files, each parsed by both; returns the time each spent. */
async function pass(first: Parse, second: Parse, files: Buffer[]): Promise<[number, number]> {
  let a = 0;
  let b = 0;
  for (const raw of files) {
    let t = performance.now();
    await first(raw);
    a += performance.now() - t;
    t = performance.now();
    await second(raw);
    b += performance.now() - t;
  }
  return [a, b];
}

const files = walk(corpora, []);
const mine = await load(resolve(import.meta.dirname, '..'));
const theirs = await load(other);
await pass(mine, theirs, files);
const times = { mine: [] as number[], theirs: [] as number[] };
for (let i = 0; i < rounds; i++) {
  if (i % 2 === 0) {
    const [m, t] = await pass(mine, theirs, files);
    times.mine.push(m);
    times.theirs.push(t);
  } else {
    const [t, m] = await pass(theirs, mine, files);
    times.mine.push(m);
    times.theirs.push(t);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${files.length} files, ${rounds} rounds (each file ABBA…)`);
console.log(
  `this checkout: ${times.mine.map(Math.round).join(' ')} ms, median ${Math.round(median(times.mine))}`,
);
console.log(
  `${other}: ${times.theirs.map(Math.round).join(' ')} ms, median ${Math.round(median(times.theirs))}`,
);
const min = (xs: number[]) => Math.min(...xs);
console.log(
  `ratio this/other: median ${(median(times.mine) / median(times.theirs)).toFixed(3)}, best ${(min(times.mine) / min(times.theirs)).toFixed(3)}`,
);
