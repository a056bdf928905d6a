import type { Action } from '../actions/index.ts';
import type { AuthResult, AuthVerdicts } from '../auth/index.ts';
import type { ReplyPayload } from './reply-payload.ts';

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
  /**
   * Authentication verdicts the message must have (all given must hold). Judged when the message is
   * processed, from Mailroom's own SPF/DKIM/DMARC checks (or the SES receipt) — never from headers the
   * sender wrote; at RCPT time they "may match". A message that was not checked (no SMTP client address)
   * has `none` verdicts and no aligned pass.
   * @example { dmarc: 'pass' } — only mail whose From: domain is DMARC-authenticated
   */
  auth?: AuthConditions;
  /**
   * The spam verdict the message must have (any in the list): `pass`, `fail`, `gray`, `temperror` (the scan
   * failed; `processing_failed` is the same), or `none` (no scan ran). From our ingress's rspamd or the SES
   * receipt, never from headers; judged when the message is processed (at RCPT time it "may match").
   * @example { spam: 'fail' } with action mailbox('quarantine')
   */
  spam?: ContentResult | ContentResult[];
  /** The virus verdict the message must have (any in the list), like {@link RouteConditions.spam}. */
  virus?: ContentResult | ContentResult[];
}

/** A word for `when.spam` / `when.virus`: a `ContentVerdict` result, `processing_failed` (= `temperror`), or `none`. */
export type ContentResult = 'pass' | 'fail' | 'gray' | 'temperror' | 'processing_failed' | 'none';

/** Every {@link ContentResult}. */
export const CONTENT_RESULTS: readonly ContentResult[] = [
  'pass',
  'fail',
  'gray',
  'temperror',
  'processing_failed',
  'none',
];

/** `RouteConditions.auth`: one or more acceptable results per method. Lists must not be empty. */
export interface AuthConditions {
  /** SPF result (pass, fail, softfail, neutral, none, temperror, permerror). */
  spf?: AuthResult | AuthResult[];
  /**
   * DKIM: some signature's result is one of these (pass, fail, neutral, none, policy, temperror,
   * permerror); an unsigned message counts as `none`.
   */
  dkim?: AuthResult | AuthResult[];
  /** DMARC result (pass, fail, none, temperror, permerror). */
  dmarc?: AuthResult | AuthResult[];
  /**
   * `true`: the From: domain is authenticated by an aligned SPF or DKIM pass — DMARC passed, or a passing
   * DKIM signature's `d=` aligns with From: (so also for domains that publish no DMARC policy).
   * `false`: it is not.
   */
  dmarcAligned?: boolean;
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
  /**
   * Treats a captured param as a signed reply token (see `replyAddress`) that the router verifies with the
   * reply keys, at RCPT time and again when the message is processed: this route's actions only ever run
   * with a verified token. Needs `replyAddress.keys` in the config (`replyKeys` for `createRouter`).
   * @default undefined (the param is plain text, nothing is verified)
   */
  replyToken?: ReplyTokenRoute;
}

/**
 * `Route.replyToken`: which param holds a signed reply token, and where recipients whose token does not
 * verify (forged, damaged, expired, signed with a key no longer listed) go.
 * @example { match: 'reply+{token}@example.com', replyToken: { param: 'token' }, action: handler(fn) }
 */
export interface ReplyTokenRoute {
  /**
   * The param that holds the token: a `{name}` capture or regex named group of every pattern in `match`,
   * or `tag` for a plain address pattern (`reply@example.com` takes `reply+<token>@example.com`).
   */
  param: string;
  /**
   * Name of another route that takes the recipient instead when its token does not verify: that route's
   * actions (or reject) apply with this route's params plus `replyTokenError` (a `ReplyTokenFailure`);
   * its own `match` and `when` are not consulted, and it must not have a `replyToken` itself.
   * @default undefined (the recipient is refused `550 5.7.1 <reason>` at RCPT time)
   */
  fallback?: string;
}

/** A reply token the router verified, as {@link RouteMatch.replyToken}. */
export interface VerifiedReplyToken {
  /** The param that held the token (`ReplyTokenRoute.param`). */
  param: string;
  /** What the token was signed with, values typed as given to `replyAddress`. */
  payload: ReplyPayload;
  /** Id of the key that signed it. */
  keyId: string;
  /** null when the token never expires. */
  expiresAt: Date | null;
}

/** The RCPT-time answer for one recipient. */
export type RecipientVerdict = { accepted: true } | { accepted: false; code: number; message: string };

export interface RouteMatch {
  route: string;
  /** Index of the route in the config. */
  routeIndex: number;
  /**
   * Captures of the match. On a `replyToken` route the token's payload is added as text, one param per
   * field: `<param>.<field>` (`params['token.ticket'] === '42'`), so webhooks and mailbox entries see it
   * too. When a `fallback` route took a recipient whose token did not verify, `replyTokenError` holds the
   * reason (`malformed`, `bad-signature`, `expired` or `unknown-key`).
   */
  params: Record<string, string>;
  actions: Action[];
  /** Set when the route has a `replyToken` option: the verified token, its payload with its types. */
  replyToken?: VerifiedReplyToken;
}

/** The processing-time decision for one recipient. */
export interface RecipientDecision {
  recipient: string;
  /** Routes that took this recipient, in order (more than one only with `continue`). */
  matches: RouteMatch[];
  /** Set when a reject action or no route applies. */
  rejected?: { code: number; message: string };
}

/** How one route fared for one recipient, in words (see {@link Router.explain}). */
export interface RouteConsideration {
  route: string;
  /** Whether the route took the recipient (its actions, a reject, or its reply-token fallback apply). */
  matched: boolean;
  /** "recipient a@x does not match pattern b@x", "condition `auth.dmarc == pass` false (dmarc is fail)"… */
  reason: string;
}

/** The decision for one recipient with every route's part in it, in config order. */
export interface RecipientExplanation extends RecipientDecision {
  considered: RouteConsideration[];
}

/** What the router may look at when deciding. */
export interface RoutingInput {
  mailFrom: string;
  /**
   * When the message was accepted. Reply tokens are checked for expiry against it, so processing later
   * (a queue backlog, crash recovery, a replay) does not refuse what RCPT time accepted.
   * @default the router's clock (`RouterOptions.now`)
   */
  receivedAt?: Date;
  /**
   * The message's verdicts. Absent at RCPT time (auth conditions "may match"); absent at processing time,
   * auth conditions are judged as if every verdict were `none`.
   */
  auth?: Pick<AuthVerdicts, 'spf' | 'dkim' | 'dmarc'> & Partial<Pick<AuthVerdicts, 'spam' | 'virus'>>;
  /** Absent at RCPT time: conditions on content are then treated as "may match". */
  message?: {
    from: { address: string } | null;
    subject: string | null;
    headers: { key: string; value: string }[];
  };
}

export interface RouterOptions {
  /** Domains we receive for: exact, case-insensitive, no implicit subdomains. */
  domains: string[];
  /** Ordered; the first route that matches a recipient wins unless it says `continue`. */
  routes: Route[];
  /** Separates a local part from its tag (`support+tag@…`); '' turns subaddress matching off. @default '+' */
  subaddressSeparator?: string;
  /**
   * Reply signing keys by key id (the config's `replyAddress.keys`), for routes with a `replyToken` option.
   * Listing a retired key keeps its tokens verifying.
   * @default undefined (a route with `replyToken` is then a config error)
   */
  replyKeys?: Record<string, string>;
  /** Accept reply tokens without an expiry (older versions minted them); see `verifyReplyToken`. @default false */
  allowReplyTokensWithoutExpiry?: boolean;
  /** Clock for reply token expiry when the input has no `receivedAt`. @default () => new Date() */
  now?: () => Date;
}

/** The parts of a Mailroom config a router is built from (`MailroomConfig` fits). */
export interface RouterConfig {
  domains: string[];
  routes: Route[];
  /** Reply address settings; `keys` and `allowNoExpiry` are used here. @default null */
  replyAddress?: { keys: Record<string, string>; allowNoExpiry?: boolean } | null;
}

/** Decides, per envelope recipient, whether it is ours and which routes take it. Pure; no I/O. */
export interface Router {
  /**
   * RCPT-time verdict. Content conditions (from, subject, headers) cannot be judged yet, so a recipient is
   * accepted when any possible outcome accepts it and refused only when every outcome refuses it.
   */
  checkRecipient(recipient: string, input: RoutingInput): RecipientVerdict;
  /**
   * Processing-time decision (content conditions evaluated). When `rejected` is set, `matches` still lists
   * the routes that took the recipient, the rejecting one last.
   */
  decide(recipient: string, input: RoutingInput): RecipientDecision;
  /**
   * The processing-time decision ({@link Router.decide}, unchanged) and why each route took the
   * recipient or not: for the dev page and `mailroom route`. Pure, like `decide`.
   */
  explain(recipient: string, input: RoutingInput): RecipientExplanation;
}
