/** Types of index.mjs (the handler is plain JavaScript so it deploys without bundling). */

export interface RuleSetApi {
  /** The active rule set, if any. */
  activeRuleSetName(): Promise<string | undefined>;
  /** Activates `name`; undefined deactivates every rule set. */
  setActive(name: string | undefined): Promise<void>;
}

export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: { readonly RuleSetName?: string };
}

export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data: Record<string, never>;
}

export function createHandler(deps: {
  ses: RuleSetApi;
  respond: (url: string, body: CustomResourceResponse) => Promise<void>;
}): (event: CustomResourceEvent) => Promise<{ status: 'SUCCESS' | 'FAILED'; reason: string }>;

export function handler(
  event: CustomResourceEvent,
): Promise<{ status: 'SUCCESS' | 'FAILED'; reason: string }>;
