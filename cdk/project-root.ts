import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Mailroom package root (the folder holding package.json, functions/, Dockerfile). */
export const PROJECT_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), '..');
