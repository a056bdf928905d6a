/**
 * The processing Lambda's settings a replay on the operator's machine shares with it, read from the
 * deployed function's environment (`GetFunctionConfiguration`): the `forward()` sender, the SES
 * configuration set of replies, the raw key prefixes and the event bus (see `process-env.ts`).
 */
import {
  GetFunctionConfigurationCommand,
  type GetFunctionConfigurationCommandOutput,
} from '@aws-sdk/client-lambda';
import { errorText } from '../kernel/index.ts';
import { StackOutputsError } from './operations-errors.ts';
import { parseProcessEnv } from './process-env.ts';

/** What {@link readProcessorSettings} needs of a Lambda client (tests give a stub). */
export interface FunctionConfigurationClient {
  send(command: GetFunctionConfigurationCommand): Promise<GetFunctionConfigurationCommandOutput>;
}

/** The variables of `process-env.ts` a replay shares with the processor (unset: the defaults). */
export interface ProcessorSettings {
  MAILROOM_FORWARD_FROM?: string;
  MAILROOM_SES_CONFIGURATION_SET?: string;
  MAILROOM_SMTP_PREFIX?: string;
  MAILROOM_SES_PREFIX?: string;
  MAILROOM_EVENT_BUS?: string;
}

/** @throws StackOutputsError when the function cannot be read or its environment is not a processor's. */
export async function readProcessorSettings(
  client: FunctionConfigurationClient,
  functionName: string,
): Promise<ProcessorSettings> {
  try {
    const out = await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const env = parseProcessEnv(out.Environment?.Variables ?? {});
    return {
      MAILROOM_SMTP_PREFIX: env.MAILROOM_SMTP_PREFIX,
      MAILROOM_SES_PREFIX: env.MAILROOM_SES_PREFIX,
      ...(env.MAILROOM_FORWARD_FROM ? { MAILROOM_FORWARD_FROM: env.MAILROOM_FORWARD_FROM } : {}),
      ...(env.MAILROOM_SES_CONFIGURATION_SET
        ? { MAILROOM_SES_CONFIGURATION_SET: env.MAILROOM_SES_CONFIGURATION_SET }
        : {}),
      ...(env.MAILROOM_EVENT_BUS ? { MAILROOM_EVENT_BUS: env.MAILROOM_EVENT_BUS } : {}),
    };
  } catch (cause) {
    throw new StackOutputsError(`cannot read the processor ${functionName}'s settings: ${errorText(cause)}`, {
      cause,
    });
  }
}
