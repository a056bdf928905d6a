#!/usr/bin/env node
// The `mailroom` command. An installed package runs its compiled JavaScript (dist/); in Mailroom's own
// repository, where the TypeScript sources sit next to this file, it runs those through tsx (a
// devDependency) so that tests and `npm start` always run the code as it is.
import './threadpool.js';
import { existsSync } from 'node:fs';

const source = new URL('../lib/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/lib/cli/main.js'));
}
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
