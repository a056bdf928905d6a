// The shapes of the dev HTTP API the page reads (README "Dev HTTP API"; DESIGN.md for the older routes).

export interface Address {
  address: string;
  name: string;
}

export interface DeliverySummary {
  recipient: string;
  route: string;
  action: string;
  mailbox?: string;
  params: Record<string, string>;
  status: string;
  attempts: number;
  error?: string;
}

/** A delivery of the detail: the summary plus its key (for replay) and the times of its last attempt. */
export interface DeliveryDetail extends DeliverySummary {
  key?: string;
  target?: string;
  updatedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

export interface Summary {
  id: string;
  receivedAt: string;
  envelope: { mailFrom: string; rcptTo: string[]; remoteAddress?: string; helo?: string };
  subject: string | null;
  from: Address | null;
  status: string;
  size: number;
  threadId: string | null;
  read?: boolean;
  deliveries: DeliverySummary[];
}

export interface Attachment {
  filename: string | null;
  contentType: string;
  size: number;
  contentId?: string | null;
  disposition?: string | null;
  /** The HTML shows it through `cid:` (an inline image). */
  related?: boolean;
}

export interface Parsed {
  messageId: string | null;
  date: string | null;
  subject: string | null;
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  text: string | null;
  html: string | null;
  attachments: Attachment[];
  headers: Array<{ key: string; value: string }>;
  reply: { text: string; signature: string | null };
  thread: { id: string };
  problems: string[];
}

export interface Verdict {
  result: string;
  domain?: string | null;
  selector?: string | null;
  aligned?: boolean | null;
  scope?: string;
  clientIp?: string | null;
  policy?: string | null;
  alignment?: { spf: boolean | null; dkim: boolean | null };
  instance?: number | null;
  comment?: string;
}

export interface ContentVerdict {
  verdict: string;
  scanner?: string;
  score?: number;
  requiredScore?: number;
  virus?: string;
  error?: string;
}

export interface AuthVerdicts {
  spf: Verdict;
  dkim: Verdict[];
  dmarc: Verdict;
  arc: Verdict | null;
  spam: ContentVerdict | null;
  virus: ContentVerdict | null;
}

export interface Detail extends Summary {
  parsed: Parsed | null;
  auth: AuthVerdicts | null;
  trace: Array<{ at: string; step: string; detail: string }>;
  deliveries: DeliveryDetail[];
}

export interface RouteMatch {
  route: string;
  params: Record<string, string>;
  actions: string[];
}

export interface RecipientRouting {
  recipient: string;
  matched: RouteMatch[];
  rejected: { code: number; message: string } | null;
  considered?: Array<{ route: string; matched: boolean; reason: string }>;
}

export interface RouteCheck extends RecipientRouting {
  accepted: boolean;
}

export interface Mailbox {
  name: string;
  count: number;
  unread: number;
}

export interface OutboxSummary {
  id: string;
  to: string[];
  subject: string | null;
  createdAt: string;
  transport: string;
}

export interface ListFilters {
  mailbox: string;
  status: string;
  route: string;
  failed: boolean;
  q: string;
}
