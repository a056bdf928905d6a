import { startLocalMailroom } from '../../dev/index.ts';
import { portOption } from '../args.ts';
import { loadCliConfig } from '../config-path.ts';
import { createConsoleLogger } from '../console-logger.ts';
import { CliError, UsageError } from '../errors.ts';
import type { ReplayArgs } from './replay.usage.ts';

interface ReplayResult {
  id: string;
  status: string | null;
}

/**
 * `mailroom replay`: re-runs one message (or every failed one) with the current code and config.
 * Asks the running dev server when there is one, so the handlers run where the mail lives; otherwise
 * replays in this process against the data directory. With `--stack` (or `--table` and `--bucket`):
 * replays a deployment on AWS (`replay-aws.ts`).
 */
export async function replayCommand({ values, positionals }: ReplayArgs): Promise<number> {
  const id = positionals[0];
  if (Boolean(values.failed) === Boolean(id)) throw new UsageError('give one message id or --failed');
  if (values.stack !== undefined || values.table !== undefined || values.bucket !== undefined) {
    return (await import('./replay-aws.ts')).replayOnAwsCommand(values, id);
  }
  for (const name of ['region', 'since'] as const) {
    if (values[name] !== undefined) throw new UsageError(`--${name} needs --stack (or --table and --bucket)`);
  }
  const port = portOption(values['http-port'], 'http-port') ?? 8025;
  const results = (await replayOverHttp(port, id)) ?? (await replayInProcess(values.config, values.data, id));
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

async function replayOverHttp(port: number, id: string | undefined): Promise<ReplayResult[] | null> {
  const base = `http://127.0.0.1:${port}`;
  let ids: string[];
  try {
    if (id) ids = [id];
    else {
      const res = await fetch(`${base}/api/messages`);
      const body = (await res.json()) as { messages: Array<{ id: string; status: string }> };
      ids = body.messages.filter((m) => m.status === 'failed').map((m) => m.id);
    }
  } catch {
    return null; // no dev server listening: replay in-process
  }
  const results: ReplayResult[] = [];
  for (const one of ids) {
    const res = await fetch(`${base}/api/messages/${encodeURIComponent(one)}/replay`, {
      method: 'POST',
      headers: { 'x-mailroom-request': '1' }, // the dev API refuses body-less POSTs without it
    });
    const body = (await res.json()) as { status?: string; error?: string };
    if (!res.ok)
      throw new CliError(`replay ${one}: ${body.error ?? res.statusText}`, res.status === 404 ? 2 : 1);
    results.push({ id: one, status: body.status ?? null });
  }
  return results;
}

async function replayInProcess(
  configFlag: string | undefined,
  data: string | undefined,
  id: string | undefined,
) {
  const config = await loadCliConfig(configFlag);
  const mailroom = await startLocalMailroom({
    config,
    logger: createConsoleLogger('warn'),
    dataDir: data,
    smtpPort: 0,
    http: false,
    prune: false, // a replay must find the message it was asked for
  });
  try {
    const ids = id ? [id] : await mailroom.pipeline.listFailed();
    const results: ReplayResult[] = [];
    for (const one of ids) {
      const status = await mailroom.pipeline.replay(one);
      if (status === null) throw new CliError(`no message ${one}`);
      results.push({ id: one, status });
    }
    return results;
  } finally {
    await mailroom.close();
  }
}
