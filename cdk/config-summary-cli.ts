// Run by readConfigSummary (config-summary.ts) in a child node: loads a Mailroom config with the running
// Mailroom's loadConfig and prints its summary as one JSON line; on failure prints {"error": "…"} and
// exits 1. Usage: node config-summary-cli.js <config file>
import { loadConfig } from '../lib/config/load-config.ts';
import { summarizeConfig } from './config-summary.ts';

const file = process.argv[2];
try {
  if (!file) throw new Error('usage: config-summary-cli <config file>');
  process.stdout.write(`${JSON.stringify(summarizeConfig(await loadConfig(file)))}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
  process.exitCode = 1;
}
