// CloudFormation custom resource (Lambda, nodejs22.x): makes Mailroom's SES receipt rule set the active one.
// Create/Update: SetActiveReceiptRuleSet(RuleSetName). Delete: deactivates only when our rule set is still
// the active one, so removing the stack never switches off a rule set someone activated since.
// No bundling: the runtime provides @aws-sdk/client-ses; fetch answers CloudFormation.

/**
 * @typedef {object} RuleSetApi
 * @property {() => Promise<string | undefined>} activeRuleSetName the active rule set, if any
 * @property {(name: string | undefined) => Promise<void>} setActive activates `name`; undefined deactivates
 */

/**
 * The custom resource logic, with SES and the CloudFormation response injected (tests pass fakes).
 * @param {{ ses: RuleSetApi, respond: (url: string, body: object) => Promise<void> }} deps
 */
export function createHandler({ ses, respond }) {
  return async function handler(event) {
    const name = event.ResourceProperties?.RuleSetName;
    let status = 'SUCCESS';
    let reason = '';
    let physicalId = event.PhysicalResourceId ?? name;
    try {
      if (event.RequestType === 'Create' || event.RequestType === 'Update') {
        if (typeof name !== 'string' || name === '') throw new Error('RuleSetName is required');
        await ses.setActive(name);
        physicalId = name;
        reason = `activated ${name}`;
      } else if (event.RequestType === 'Delete') {
        const active = await ses.activeRuleSetName();
        if (active === event.PhysicalResourceId) {
          await ses.setActive(undefined);
          reason = `deactivated ${active}`;
        } else {
          reason = `left ${active ?? 'no rule set'} active`;
        }
      }
    } catch (error) {
      status = 'FAILED';
      reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    await respond(event.ResponseURL, {
      Status: status,
      Reason: reason,
      PhysicalResourceId: physicalId ?? 'none',
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: {},
    });
    return { status, reason };
  };
}

async function sesApi() {
  const sdk = await import('@aws-sdk/client-ses');
  const client = new sdk.SESClient({});
  return {
    async activeRuleSetName() {
      const out = await client.send(new sdk.DescribeActiveReceiptRuleSetCommand({}));
      return out.Metadata?.Name;
    },
    async setActive(name) {
      await client.send(new sdk.SetActiveReceiptRuleSetCommand(name ? { RuleSetName: name } : {}));
    },
  };
}

async function respondToCloudFormation(url, body) {
  const res = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': '' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`CloudFormation response failed: HTTP ${res.status}`);
}

let live;
export async function handler(event) {
  live ??= createHandler({ ses: await sesApi(), respond: respondToCloudFormation });
  return live(event);
}
