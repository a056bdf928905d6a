// The local mailroom (`mailroom dev`, `mailroom smtp`, `mailroom replay`): SMTP ingress, disk and SQLite
// stores, the in-process pipeline, and the dev HTTP API with its live event stream.
export { type LocalMailroom, type LocalMailroomOptions, startLocalMailroom } from './local-mailroom.ts';
export {
  type LocalWorkerContext,
  type LocalWorkerData,
  localWorkerProcessing,
} from './worker-processing.ts';
