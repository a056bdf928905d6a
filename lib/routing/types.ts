import type { Action } from '../actions/types.ts';

/**
 * Which envelope recipients a route takes.
 * - `'support@example.com'` exact address (domain case-insensitive; local part too unless `caseSensitive`);
 *   also takes subaddresses `support+tag@example.com` with param `tag`.
 * - `'reply+{token}@example.com'` captures `{name}` in the local part (non-empty, no '@').
 * - `'*@example.com'`, `'ticket-*@example.com'` `*` wildcards (any run of characters, maybe empty).
 * - `'@example.com'` or `{ domain: 'example.com' }` every address of a domain.
 * - a `RegExp` tested against the whole address; named groups become params.
 */
export type RecipientPattern = string | RegExp | { domain: string };

/** A string matches case-insensitively as a whole (with `*` wildcards); a RegExp is tested as given. */
export type ValuePattern = string | RegExp;

/** Extra conditions, all of which must hold. Evaluated once the message is parsed. */
export interface RouteConditions {
  /** Envelope sender (MAIL FROM); any pattern in the list may match. Checked at RCPT time too. */
  sender?: ValuePattern | ValuePattern[];
  /** From: header address; any pattern in the list may match. */
  from?: ValuePattern | ValuePattern[];
  subject?: ValuePattern;
  /** Header name (case-insensitive) → pattern; any value of a repeated header may match. */
  headers?: Record<string, ValuePattern>;
}

export interface Route {
  /** Shown in deliveries and traces. @default `route-<index>` */
  name?: string;
  match: RecipientPattern | RecipientPattern[];
  when?: RouteConditions;
  action: Action | Action[];
  /** Keep evaluating later routes for this recipient after this one matched. @default false */
  continue?: boolean;
  /** Compare local parts case-sensitively. @default false */
  caseSensitive?: boolean;
}

/** The RCPT-time answer for one recipient. */
export type RecipientVerdict = { accepted: true } | { accepted: false; code: number; message: string };

export interface RouteMatch {
  route: string;
  /** Index of the route in the config. */
  routeIndex: number;
  params: Record<string, string>;
  actions: Action[];
}

/** The processing-time decision for one recipient. */
export interface RecipientDecision {
  recipient: string;
  /** Routes that took this recipient, in order (more than one only with `continue`). */
  matches: RouteMatch[];
  /** Set when a reject action or no route applies. */
  rejected?: { code: number; message: string };
}

/** What the router may look at when deciding. */
export interface RoutingInput {
  mailFrom: string;
  /** Absent at RCPT time: conditions on content are then treated as "may match". */
  message?: {
    from: { address: string } | null;
    subject: string | null;
    headers: { key: string; value: string }[];
  };
}
