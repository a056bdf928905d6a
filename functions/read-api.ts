/**
 * The mailbox read API's Lambda behind a Function URL with IAM auth (opt-in `readApi` of
 * `MailroomPipeline`): read-only, the dev API's resource shape (see `lib/aws/read-api/read-api-handler.ts`).
 *
 * Thin on purpose: the Function URL event is validated with zod and answered by the pure handler over the
 * DynamoDB store and the mail bucket; the settings are read from the environment once, at init
 * (`lib/aws/read-api/read-api-lambda.ts` lists them). No user config is loaded: reading needs none.
 */
import { createReadApiLambdaHandler, type FunctionUrlResult } from '../lib/aws/read-api/read-api-lambda.ts';

export type { FunctionUrlResult, ReadApiLambdaOptions } from '../lib/aws/read-api/read-api-lambda.ts';
export { createReadApiLambdaHandler };

let built: ((event: unknown) => Promise<FunctionUrlResult>) | undefined;

/** The Lambda entry point (`functions/read-api.handler`), built on the first event. */
export function handler(event: unknown): Promise<FunctionUrlResult> {
  built ??= createReadApiLambdaHandler();
  return built(event);
}
