/**
 * A processing worker thread of `mailroom smtp` / `mailroom dev` (see `ProcessingPool`): loads the same
 * config and DNS zone as the command, builds its own processing ports and processes what it is sent.
 * Loaded by the pool's bootstrap, never imported.
 */
import { workerData } from 'node:worker_threads';
import { createStaticResolver } from '../auth/index.ts';
import { loadConfig } from '../config/index.ts';
import { type LocalWorkerContext, type LocalWorkerData, localWorkerProcessing } from '../dev/index.ts';
import { serveProcessing } from '../pipeline/index.ts';
import { loadDnsZone } from './dns-zone.ts';

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
