import * as z from 'zod';
import { defineActionKind } from '../action-kind.ts';
import { payloadAttachments } from '../attachment-access.ts';
import { callPort, cloudEvent, cloudPort, truncationNote } from '../cloud-delivery.ts';
import { MAX_CLOUD_EVENT_BYTES } from '../cloud-event.ts';

/**
 * Invoke an AWS Lambda function asynchronously (`InvocationType: 'Event'`) with the message as a
 * `CloudActionEvent`. Runs on AWS (the processor injects the ports); `mailroom dev` records the event
 * locally instead (see `createLocalActionPorts`).
 */
export interface LambdaAction {
  kind: 'lambda';
  /** Function name, ARN or partial ARN (`123456789012:function:name`). */
  functionName: string;
  /** Version or alias. @default none (`$LATEST`, or the qualifier in the ARN) */
  qualifier?: string;
}

/** Lambda's FunctionName pattern (name, ARN or partial ARN, optional `:qualifier` in group 9). */
const LAMBDA_FUNCTION =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(?:function:)?[a-zA-Z0-9_.-]+(:(\$LATEST|[a-zA-Z0-9_-]+))?$/;
/**
 * Invoke an AWS Lambda function asynchronously with the message as a `CloudActionEvent`.
 * @param functionName Function name, ARN or partial ARN.
 * @param options.qualifier Version or alias. @default none
 */
export function lambda(functionName: string, options: { qualifier?: string } = {}): LambdaAction {
  return { kind: 'lambda', functionName, ...options };
}

function shownFunction(action: LambdaAction): string {
  return action.qualifier ? `${action.functionName}:${action.qualifier}` : action.functionName;
}

/** `lambda()`: one asynchronous invocation with the delivery's `CloudActionEvent`. */
export const lambdaKind = defineActionKind<LambdaAction>({
  kind: 'lambda',
  schema: z
    .object({
      kind: z.literal('lambda'),
      functionName: z
        .string()
        .refine((s) => s.length <= 170, { message: 'must be at most 170 characters' })
        .regex(LAMBDA_FUNCTION, {
          message:
            'must be a Lambda function name, ARN or partial ARN (letters, digits, - and _ in the name)',
        }),
      qualifier: z
        .string()
        .regex(/^[A-Za-z0-9$_-]{1,128}$/, { message: 'must be a version or alias name such as "live"' })
        .optional(),
    })
    .refine((a) => a.qualifier === undefined || LAMBDA_FUNCTION.exec(a.functionName)?.[9] === undefined, {
      message: 'give the version or alias either in functionName or as qualifier, not both',
      path: ['qualifier'],
    }),
  target: shownFunction,
  describe: (action) => ({ functionName: action.functionName, qualifier: action.qualifier ?? null }),
  cloudPort: 'invokeLambda',
  grants: (action) => [
    {
      lambdaInvoke: {
        functionName: action.functionName,
        ...(action.qualifier ? { qualifier: action.qualifier } : {}),
      },
    },
  ],
  async run(action, run) {
    const invoke = cloudPort(run, 'invokeLambda', 'lambda');
    const target = shownFunction(action);
    const payload = cloudEvent(run, MAX_CLOUD_EVENT_BYTES, await payloadAttachments(run));
    const request = {
      functionName: action.functionName,
      event: payload,
      idempotencyKey: run.idempotencyKey,
      ...(action.qualifier ? { qualifier: action.qualifier } : {}),
    };
    const { detail } = await callPort(`lambda ${target}`, () => invoke(request));
    return { status: 'delivered', detail: `lambda ${target}: ${detail}${truncationNote(payload)}` };
  },
});
