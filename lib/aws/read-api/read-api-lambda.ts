import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { ProcessEnvError } from '../processor-errors.ts';
import { handleReadApiRequest, type ReadApiPorts, type ReadApiResponse } from './read-api-handler.ts';
import { createReadApiPorts } from './read-api-ports.ts';

/**
 * A Lambda Function URL request (payload format 2.0), as much of it as the read API reads. Anything else
 * is refused with `400` before it reaches the handler.
 */
export const functionUrlEventSchema = z.object({
  rawPath: z.string().max(4096).startsWith('/'),
  rawQueryString: z.string().max(8192).optional(),
  requestContext: z.object({ http: z.object({ method: z.string().min(1).max(16) }) }),
});

const prefix = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : v));

/**
 * The read function's environment (set by the CDK construct): `MAILROOM_RAW_BUCKET`, `MAILROOM_TABLE`
 * (required), `MAILROOM_SMTP_PREFIX` / `MAILROOM_SES_PREFIX` (as the processor's), and
 * `MAILROOM_URL_EXPIRES_IN`: seconds the presigned URLs it answers with work (default 3600).
 */
export const readApiEnvSchema = z.object({
  MAILROOM_RAW_BUCKET: z.string({ error: 'required' }).trim().min(1, { message: 'required' }),
  MAILROOM_TABLE: z.string({ error: 'required' }).trim().min(1, { message: 'required' }),
  MAILROOM_SMTP_PREFIX: prefix('smtp/'),
  MAILROOM_SES_PREFIX: prefix('ses/'),
  MAILROOM_URL_EXPIRES_IN: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? Number(v) : undefined))
    .refine((v) => v === undefined || (Number.isInteger(v) && v >= 1 && v <= 604_800), {
      message: 'must be a whole number of seconds from 1 to 604800',
    }),
  AWS_ENDPOINT_URL_S3: z.string().optional(),
  AWS_ENDPOINT_URL: z.string().optional(),
});

/** What the Function URL expects back. */
export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

export interface ReadApiLambdaOptions {
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** @default ports built from the environment */
  ports?: ReadApiPorts;
  s3?: S3Client;
  dynamo?: DynamoDBClient;
}

/** @throws ProcessEnvError naming every bad variable. */
export function readApiPortsFromEnv(options: ReadApiLambdaOptions): ReadApiPorts {
  const parsed = readApiEnvSchema.safeParse(options.env ?? process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ProcessEnvError(`read API environment: ${problems.join('; ')}`, { cause: parsed.error });
  }
  const env = parsed.data;
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return createReadApiPorts({
    s3: options.s3 ?? new S3Client({ forcePathStyle: Boolean(endpoint) }),
    dynamo: options.dynamo ?? new DynamoDBClient({}),
    tableName: env.MAILROOM_TABLE,
    rawBucket: env.MAILROOM_RAW_BUCKET,
    smtpPrefix: env.MAILROOM_SMTP_PREFIX,
    sesPrefix: env.MAILROOM_SES_PREFIX,
    ...(env.MAILROOM_URL_EXPIRES_IN === undefined ? {} : { urlExpiresIn: env.MAILROOM_URL_EXPIRES_IN }),
  });
}

/** The read API as a Function URL handler: the event validated, answered by {@link handleReadApiRequest}. */
export function createReadApiLambdaHandler(
  options: ReadApiLambdaOptions = {},
): (event: unknown) => Promise<FunctionUrlResult> {
  const ports = options.ports ?? readApiPortsFromEnv(options);
  return async (event) => {
    const parsed = functionUrlEventSchema.safeParse(event);
    if (!parsed.success) {
      return lambdaResult({
        status: 400,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ error: 'not a Function URL request' }),
        isBase64Encoded: false,
      });
    }
    const { rawPath, rawQueryString, requestContext } = parsed.data;
    const response = await handleReadApiRequest(ports, {
      method: requestContext.http.method,
      path: rawPath,
      query: new URLSearchParams(rawQueryString ?? ''),
    });
    return lambdaResult(response);
  };
}

function lambdaResult(response: ReadApiResponse): FunctionUrlResult {
  return {
    statusCode: response.status,
    headers: { ...response.headers, 'x-content-type-options': 'nosniff' },
    body: response.body,
    isBase64Encoded: response.isBase64Encoded,
  };
}
