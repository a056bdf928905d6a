/**
 * The Mailroom package root (this repository, or `node_modules/mailroom` when installed). Kept for the
 * benchmarks and tests that name it; constructs use `package-files.ts`.
 */
export { PACKAGE_ROOT as PROJECT_ROOT } from '../lib/kernel/index.ts';
