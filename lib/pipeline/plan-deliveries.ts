import { createHash } from 'node:crypto';
import type { Action } from '../actions/index.ts';
import type { RecipientDecision } from '../routing/index.ts';

/** One delivery to make: one action for every recipient that shares it. */
export interface PlannedDelivery {
  /** Idempotency key (see {@link planDeliveries}). */
  key: string;
  /** null for a recipient that no route took (`unrouted`). */
  action: Action | null;
  /** Action kind, or `none` when unrouted. */
  kind: Action['kind'] | 'none';
  /** Every recipient served, in envelope order. */
  recipients: string[];
  /** Route of the first recipient that led here ('' when unrouted). */
  route: string;
  /** Params of the first recipient that led here. */
  params: Record<string, string>;
  /** Why the recipient is unrouted or rejected. */
  reason?: string;
}

/** JSON with keys sorted, so equal params always give equal text. */
export function canonicalParams(params: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(params).sort()) sorted[k] = params[k] ?? '';
  return JSON.stringify(sorted);
}

function paramsHash(params: Record<string, string>): string {
  return createHash('sha256').update(canonicalParams(params)).digest('hex').slice(0, 16);
}

/**
 * Groups routing decisions into deliveries, one per (message, action identity):
 * - `mailbox` actions by mailbox name: `<id>:mailbox:<name>` — a mailbox gets a message once, however many
 *   recipients or routes lead there;
 * - `handler`, `webhook`, `drop` by route index, action index and params:
 *   `<id>:<kind>:r<route>.a<action>:<hash of canonical params>` — recipients with equal params share one
 *   delivery (a hash keeps the key ASCII and short: it doubles as the `webhook-id` header);
 * - `reject` and unrouted per recipient: `<id>:reject:<rcpt>`, `<id>:none:<rcpt>`. A recipient whose
 *   decision is `rejected` gets only its reject row, even if routes took it earlier with `continue`.
 * Order: envelope recipients, then their routes, then the route's actions.
 */
export function planDeliveries(messageId: string, decisions: RecipientDecision[]): PlannedDelivery[] {
  const plan = new Map<string, PlannedDelivery>();
  const add = (p: PlannedDelivery, recipient: string) => {
    const existing = plan.get(p.key);
    if (!existing) plan.set(p.key, p);
    else if (!existing.recipients.some((r) => r.toLowerCase() === recipient.toLowerCase())) {
      existing.recipients.push(recipient);
    }
  };
  for (const decision of decisions) {
    const rcpt = decision.recipient;
    const lower = rcpt.toLowerCase();
    if (decision.matches.length === 0) {
      const reason = decision.rejected
        ? `${decision.rejected.code} ${decision.rejected.message}`
        : 'no route takes this recipient';
      add(
        {
          key: `${messageId}:none:${lower}`,
          action: null,
          kind: 'none',
          recipients: [rcpt],
          route: '',
          params: {},
          reason,
        },
        rcpt,
      );
      continue;
    }
    if (decision.rejected) {
      // A reject route applies: the whole recipient is refused (as at RCPT time), including routes
      // that took it earlier with `continue`.
      const last = decision.matches[decision.matches.length - 1];
      const reject = last?.actions.find((a) => a.kind === 'reject') ?? null;
      const reason = `${decision.rejected.code} ${decision.rejected.message}`;
      add(
        {
          key: `${messageId}:reject:${lower}`,
          action: reject,
          kind: 'reject',
          recipients: [rcpt],
          route: last?.route ?? '',
          params: { ...(last?.params ?? {}) },
          reason,
        },
        rcpt,
      );
      continue;
    }
    for (const match of decision.matches) {
      match.actions.forEach((action, actionIndex) => {
        const base = {
          action,
          kind: action.kind,
          recipients: [rcpt],
          route: match.route,
          params: { ...match.params },
        };
        switch (action.kind) {
          case 'mailbox':
            add({ ...base, key: `${messageId}:mailbox:${action.mailbox}` }, rcpt);
            break;
          case 'reject': // the router sets `rejected` for these; kept for decisions made elsewhere
            add(
              { ...base, key: `${messageId}:reject:${lower}`, reason: `${action.code} ${action.text}` },
              rcpt,
            );
            break;
          default:
            add(
              {
                ...base,
                key: `${messageId}:${action.kind}:r${match.routeIndex}.a${actionIndex}:${paramsHash(match.params)}`,
              },
              rcpt,
            );
        }
      });
    }
  }
  return [...plan.values()];
}
