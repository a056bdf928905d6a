/**
 * Content scanning at the end of DATA on our own ingress: the `spam` port (rspamd) and the `virus` port
 * (ClamAV's clamd), their policy, and the verdicts they give (`auth.spam`, `auth.virus`).
 */
export { type ClamavOptions, createClamavScanner } from './clamav.ts';
export { createRspamdScanner, parseRspamdReply, type RspamdOptions } from './rspamd.ts';
export {
  createScanCheck,
  type ScanCheck,
  type ScanCheckOptions,
  type ScanConfig,
  type ScanDecision,
  type ScanPolicy,
  scanCheckFromConfig,
  scanSummary,
} from './scan-check.ts';
export {
  RSPAMD_ACTIONS,
  type RspamdAction,
  type ScanInput,
  ScannerError,
  type SpamScan,
  type SpamScanner,
  type VirusScan,
  type VirusScanner,
} from './types.ts';
