import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describeAction } from '../../actions/index.ts';
import { parseMessage } from '../../message/index.ts';
import { routerFromConfig } from '../../routing/index.ts';
import { loadCliConfig, printStartWarnings } from '../config-path.ts';
import { CliError, UsageError } from '../errors.ts';
import type { RouteArgs } from './route.usage.ts';

/** `mailroom route`: the routing decision per recipient as JSON, delivering nothing. */
export async function routeCommand({ values, positionals }: RouteArgs): Promise<number> {
  const file = positionals[0]!;
  if (!values.rcpt?.length) throw new UsageError('give at least one --rcpt ADDR');
  if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
  const config = await loadCliConfig(values.config);
  printStartWarnings('route', config);
  const parsed = await parseMessage(await readFile(file), config.parse);
  const mailFrom = values.from ?? parsed.from?.address ?? '';
  const router = routerFromConfig(config);
  const recipients = values.rcpt.map((recipient) => {
    const atRcpt = router.checkRecipient(recipient, { mailFrom });
    const decision = router.decide(recipient, { mailFrom, message: parsed });
    return {
      recipient,
      accepted: atRcpt.accepted,
      ...(atRcpt.accepted ? {} : { code: atRcpt.code, message: atRcpt.message }),
      matches: decision.matches.map((m) => ({
        route: m.route,
        params: m.params,
        actions: m.actions.map(describeAction),
      })),
      ...(decision.rejected ? { rejected: decision.rejected } : {}),
    };
  });
  process.stdout.write(`${JSON.stringify({ mailFrom, subject: parsed.subject, recipients }, null, 2)}\n`);
  return 0;
}
