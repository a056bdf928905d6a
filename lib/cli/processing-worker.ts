/**
 * A processing worker thread of `mailroom smtp` / `mailroom dev` (see `ProcessingPool`): loads the same
 * config and DNS zone as the command, builds its own processing ports and processes what it is sent.
 * Loaded by the pool's bootstrap, never imported.
 */
import { workerData } from 'node:worker_threads';
import { createStaticResolver } from '../auth/index.ts';
import { loadConfig } from '../config/index.ts';
import type { LocalWorkerContext, LocalWorkerData } from '../dev/index.ts';
import { serveProcessing } from '../pipeline/index.ts';
import { loadDnsZone } from './dns-zone.ts';

// The worker's own ports only, not lib/dev's index (the SMTP ingress, the HTTP API, TLS certificates and
// their packages): each thread pays in memory for every module it loads, and a worker needs none of those.
const { localWorkerProcessing } = await import('../dev/worker-processing.ts');

const data = (workerData as { data: LocalWorkerData }).data;

await serveProcessing(async (logger, context) => {
  const config = await loadConfig(data.configFile);
  if (data.dnsZone) config.auth.resolver = createStaticResolver(await loadDnsZone(data.dnsZone));
  return localWorkerProcessing({
    config,
    data,
    logger,
    context: () => context() as LocalWorkerContext | null,
  });
});
