#!/usr/bin/env node
// The `mailroom` command. Runs the TypeScript sources (and the user's `mailroom.config.ts`) through tsx.
import './threadpool.js';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
