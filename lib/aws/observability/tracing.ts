import type { Tracer } from '@aws-lambda-powertools/tracer';
import { PROCESSOR_SERVICE } from './metric-names.ts';

/** The Tracer once {@link startTracing} found tracing on; until then (and outside Lambda) none. */
let active: Tracer | undefined;

/**
 * Whether X-Ray tracing can run here: in a Lambda runtime (`AWS_EXECUTION_ENV`) unless
 * `POWERTOOLS_TRACE_ENABLED=false`. Elsewhere (tests, `mailroom dev`) Powertools' Tracer would do nothing:
 * it is then not even loaded (it pulls in aws-xray-sdk-core).
 */
export function tracingWanted(env: Record<string, string | undefined>): boolean {
  return Boolean(env.AWS_EXECUTION_ENV) && env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false';
}

/**
 * Loads Powertools' Tracer when {@link tracingWanted}, before the processor's AWS clients are made, so
 * that {@link traced} can capture them. `fetch` calls (webhook deliveries) get a subsegment each from the
 * Tracer's own instrumentation (`POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS`, on by default).
 */
export async function startTracing(env: Record<string, string | undefined>): Promise<void> {
  if (active || !tracingWanted(env)) return;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  const tracer = new Tracer({ serviceName: env.POWERTOOLS_SERVICE_NAME || PROCESSOR_SERVICE });
  if (tracer.isTracingEnabled()) active = tracer;
}

/** An AWS SDK v3 client whose calls become X-Ray subsegments when tracing is on (else the client as is). */
export function traced<Client>(client: Client): Client {
  return active ? (active.captureAWSv3Client(client) ?? client) : client;
}

/**
 * Runs one invocation inside a `## handler` subsegment of Lambda's segment, annotated with `ColdStart` and
 * `Service`; an error is added as metadata. Without tracing, just runs it.
 */
export async function inHandlerSegment<T>(run: () => Promise<T>): Promise<T> {
  const tracer = active;
  const parent = tracer?.getSegment();
  if (!tracer || !parent) return run();
  const segment = parent.addNewSubsegment('## handler');
  tracer.setSegment(segment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await run();
  } catch (err) {
    if (err instanceof Error) tracer.addErrorAsMetadata(err);
    throw err;
  } finally {
    segment.close();
    tracer.setSegment(parent);
  }
}
