export { backoffDelay } from './backoff.ts';
export {
  type AcceptInput,
  createPipeline,
  type Pipeline,
  type PipelineDeps,
  type RecoveryReport,
} from './create-pipeline.ts';
export { describeDelivery } from './deliver.ts';
export type { DeliveryRetries } from './delivery-retries.ts';
export { PipelineError } from './errors.ts';
export type { DeliveryEventData, PipelineEvent, PipelineEventListener } from './events.ts';
export { canonicalParams, type PlannedDelivery, planDeliveries } from './plan-deliveries.ts';
export {
  type AttachmentPorts,
  type AttachmentRef,
  createProcessingPorts,
  type ProcessingPorts,
  type ProcessingPortsInput,
} from './ports.ts';
export { type MessageInput, type ProcessOutcome, processMessage } from './process-message.ts';
export { ProcessingPool, type ProcessingPoolOptions } from './processing-pool.ts';
export type { MessageProcessor, RunResult } from './processing-protocol.ts';
export { serveProcessing, type WorkerProcessing } from './processing-worker-host.ts';
export { type Arrival, recordArrival } from './record-arrival.ts';
