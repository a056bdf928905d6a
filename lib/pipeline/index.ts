export { backoffDelay } from './backoff.ts';
export {
  type AcceptInput,
  createPipeline,
  type Pipeline,
  type PipelineDeps,
  type RecoveryReport,
} from './create-pipeline.ts';
export { PipelineError } from './errors.ts';
export type { DeliveryEventData, PipelineEvent, PipelineEventListener } from './events.ts';
export { canonicalParams, type PlannedDelivery, planDeliveries } from './plan-deliveries.ts';
