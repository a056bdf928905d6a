import type { AuthResult, AuthVerdicts } from '../auth/index.ts';
import { authSummary } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { Address, Attachment } from '../message/index.ts';
import type { PayloadAttachment } from './attachment-access.ts';
import type { DeliveryEventData, DeliveryFacts } from './webhook-payload.ts';

/** Where the stored raw message lives in S3, for consumers that need the full bytes. */
export interface RawLocation {
  bucket: string;
  key: string;
}

/**
 * The largest event, in UTF-8 bytes of its JSON: 256 KiB, EventBridge's limit for one PutEvents entry
 * (which also counts `source` and `detail-type`: {@link buildCloudEvent} takes those off). Lambda's
 * asynchronous limit is larger (1 MB); both actions send the same shape within this one budget.
 */
export const MAX_CLOUD_EVENT_BYTES = 256 * 1024;

/** The message fields an event carries: everything but the HTML, the header list and attachment bytes. */
export interface CloudMessageSummary {
  messageId: string | null;
  date: string | null;
  subject: string | null;
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  inReplyTo: string | null;
  references: string[];
  /** The plain-text body (trimmed to fit the event; see `truncated`). */
  text: string | null;
  /** Whether the message had an HTML body (not included: read the raw message). */
  hasHtml: boolean;
  /** Only what the person wrote (see ParsedMessage.reply). */
  reply: { text: string; signature: string | null };
  threadId: string;
  /**
   * Metadata, and for a kept attachment a time-limited absolute `url` to its bytes (`urlExpiresAt`); the
   * bytes are in the raw message too.
   */
  attachments: PayloadAttachment[];
  problems: string[];
}

/** The verdicts in brief. The full set is in the message record (and the API). */
export interface CloudAuthSummary {
  source: AuthVerdicts['source'];
  /** `spf=pass dkim=pass dmarc=pass …` */
  summary: string;
  spf: { result: AuthResult; domain: string | null };
  dkim: Array<{
    result: AuthResult;
    domain: string | null;
    selector: string | null;
    aligned: boolean | null;
  }>;
  dmarc: { result: AuthResult; domain: string | null; policy: AuthVerdicts['dmarc']['policy'] };
  arc: AuthResult | null;
  spam: string | null;
  virus: string | null;
}

/**
 * What `lambda()` actions send as the payload and `eventBridge()` actions as the event's `detail`. The
 * same envelope as the webhook payload (`type`, `id`, `timestamp`, `data`), with a summary of the message
 * instead of the whole ParsedMessage so that it fits the services' limits. Deduplicate on `id`: Lambda and
 * EventBridge deliver at least once, and Mailroom retries a delivery until the service accepted it.
 */
export interface CloudActionEvent {
  /** Shape version of this event. */
  version: 1;
  type: 'message.received';
  /** The delivery's idempotency key: stable across retries and re-processing. */
  id: string;
  /** ISO 8601 time of this attempt. */
  timestamp: string;
  data: DeliveryEventData & {
    message: CloudMessageSummary;
    auth: CloudAuthSummary;
    /** The stored raw message: its size, and where it is in S3 when known (null elsewhere). */
    raw: { size: number; location: RawLocation | null };
  };
  /** True when fields were shortened or lists cut to fit {@link MAX_CLOUD_EVENT_BYTES}. */
  truncated: boolean;
  /** Which fields were shortened (`data.message.text`, `data.message.to`, …); empty when none. */
  truncatedFields: string[];
}

/** What an event is built from. */
export type CloudEventInput = DeliveryFacts;

/** Caps applied in order until the event fits: generous first, then tight, then minimal. */
const STAGES = [
  { list: 100, short: 1000, name: 200, dkim: 10 },
  { list: 10, short: 300, name: 100, dkim: 3 },
  { list: 1, short: 100, name: 40, dkim: 1 },
] as const;
type Stage = (typeof STAGES)[number];

/** Bytes `s` takes inside a JSON string (quotes excluded), as `JSON.stringify` writes it. */
function jsonCharBytes(code: number, next: number): number {
  if (code === 0x22 || code === 0x5c) return 2;
  if (code < 0x20)
    return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdbff) return next >= 0xdc00 && next <= 0xdfff ? 4 : 6;
  if (code >= 0xdc00 && code <= 0xdfff) return 6; // a lone low surrogate (a pair was counted at its start)
  return 3;
}

/** The longest prefix of `s` whose JSON form (without quotes) takes at most `maxBytes` bytes. */
export function truncateToJsonBytes(s: string, maxBytes: number): string {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    const isPair = code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    const cost = jsonCharBytes(code, next);
    if (bytes + cost > maxBytes) return s.slice(0, i);
    bytes += cost;
    if (isPair) i++;
  }
  return s;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Builds events under one stage of caps, noting what it cut. */
class Trimmer {
  readonly cut = new Set<string>();
  constructor(readonly stage: Stage) {}

  str(path: string, s: string, max: number = this.stage.short): string {
    if (s.length <= max) return s;
    this.cut.add(path);
    return s.slice(0, max);
  }
  opt(path: string, s: string | null, max?: number): string | null {
    return s === null ? null : this.str(path, s, max);
  }
  list<T>(path: string, items: T[], max: number = this.stage.list): T[] {
    if (items.length <= max) return items;
    this.cut.add(path);
    return items.slice(0, max);
  }
  address(path: string, a: Address): Address {
    return { address: this.str(path, a.address, 320), name: this.str(path, a.name, this.stage.name) };
  }
  addresses(path: string, list: Address[]): Address[] {
    return this.list(path, list).map((a) => this.address(path, a));
  }
}

function summarizeAuth(v: AuthVerdicts, t: Trimmer): CloudAuthSummary {
  return {
    source: v.source,
    summary: t.str('data.auth.summary', authSummary(v)),
    spf: { result: v.spf.result, domain: t.opt('data.auth.spf', v.spf.domain, 255) },
    dkim: t.list('data.auth.dkim', v.dkim, t.stage.dkim).map((d) => ({
      result: d.result,
      domain: t.opt('data.auth.dkim', d.domain, 255),
      selector: t.opt('data.auth.dkim', d.selector, 255),
      aligned: d.aligned,
    })),
    dmarc: {
      result: v.dmarc.result,
      domain: t.opt('data.auth.dmarc', v.dmarc.domain, 255),
      policy: v.dmarc.policy,
    },
    arc: v.arc?.result ?? null,
    spam: v.spam?.verdict ?? null,
    virus: v.virus?.verdict ?? null,
  };
}

/** Longest attachment URL an event carries; a longer one is left out (a cut URL would not work). */
const MAX_URL_CHARS = 4096;

function summarizeAttachment(a: Attachment | PayloadAttachment, t: Trimmer): PayloadAttachment {
  const signed = 'urlExpiresAt' in a ? a : null;
  let url = signed?.url ?? null;
  if (url !== null && url.length > MAX_URL_CHARS) {
    t.cut.add('data.message.attachments');
    url = null;
  }
  return {
    filename: t.opt('data.message.attachments', a.filename, 255),
    contentType: t.str('data.message.attachments', a.contentType, 255),
    size: a.size,
    sha256: a.sha256,
    contentId: t.opt('data.message.attachments', a.contentId, 255),
    disposition: t.opt('data.message.attachments', a.disposition, 50),
    url,
    urlExpiresAt: url === null ? null : (signed?.urlExpiresAt ?? null),
    stored: a.stored === true,
    related: a.related === true,
  };
}

function skeleton(input: CloudEventInput, options: BuildCloudEventOptions, t: Trimmer): CloudActionEvent {
  const m = input.message;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.params))
    params[t.str('data.params', k, 200)] = t.str('data.params', v);
  const envelope: Envelope = {
    mailFrom: t.str('data.envelope.mailFrom', input.envelope.mailFrom, 320),
    rcptTo: t
      .list('data.envelope.rcptTo', input.envelope.rcptTo)
      .map((r) => t.str('data.envelope.rcptTo', r, 320)),
  };
  if (input.envelope.remoteAddress !== undefined) envelope.remoteAddress = input.envelope.remoteAddress;
  if (input.envelope.helo !== undefined)
    envelope.helo = t.str('data.envelope.helo', input.envelope.helo, 255);
  return {
    version: 1,
    type: 'message.received',
    id: input.idempotencyKey,
    timestamp: options.now.toISOString(),
    data: {
      id: input.messageId,
      envelope,
      recipient: t.str('data.recipient', input.recipient, 320),
      recipients: t.list('data.recipients', input.recipients).map((r) => t.str('data.recipients', r, 320)),
      route: t.str('data.route', input.route, 200),
      params,
      message: {
        messageId: t.opt('data.message.messageId', m.messageId),
        date: m.date,
        subject: t.opt('data.message.subject', m.subject),
        from: m.from ? t.address('data.message.from', m.from) : null,
        to: t.addresses('data.message.to', m.to),
        cc: t.addresses('data.message.cc', m.cc),
        replyTo: t.addresses('data.message.replyTo', m.replyTo),
        inReplyTo: t.opt('data.message.inReplyTo', m.inReplyTo),
        references: t
          .list('data.message.references', m.references)
          .map((r) => t.str('data.message.references', r)),
        text: m.text === null ? null : '',
        hasHtml: m.html !== null,
        reply: { text: '', signature: null },
        threadId: t.str('data.message.threadId', m.thread.id, 200),
        attachments: t
          .list('data.message.attachments', options.attachments ?? m.attachments)
          .map((a) => summarizeAttachment(a, t)),
        problems: t.list('data.message.problems', m.problems).map((p) => t.str('data.message.problems', p)),
      },
      auth: summarizeAuth(input.auth, t),
      raw: { size: input.raw.length, location: options.rawLocation ?? null },
    },
    truncated: false,
    truncatedFields: [],
  };
}

export interface BuildCloudEventOptions {
  now: Date;
  rawLocation?: RawLocation | null;
  /** Bytes the event's JSON may take. @default {@link MAX_CLOUD_EVENT_BYTES} */
  maxBytes?: number;
  /** The message's attachments with their URLs. @default `message.attachments`, without URLs */
  attachments?: PayloadAttachment[];
}

/**
 * The event of one delivery, at most `maxBytes` of JSON. Short fields and lists are capped first (generous
 * caps, then tighter ones while the rest does not fit); the body texts get what is left: the reply text
 * up to half of it, the full text the rest. Whatever was shortened is listed in `truncatedFields`.
 */
export function buildCloudEvent(input: CloudEventInput, options: BuildCloudEventOptions): CloudActionEvent {
  const maxBytes = options.maxBytes ?? MAX_CLOUD_EVENT_BYTES;
  const m = input.message;
  const fullText = m.text ?? '';
  const fullReply = m.reply.text;
  const fullSignature = m.reply.signature;
  // Room for `truncated: true` and the list of cut fields, so that marking them cannot overflow.
  const markRoom = 600;
  for (const [i, stage] of STAGES.entries()) {
    const t = new Trimmer(stage);
    const event = skeleton(input, options, t);
    const signature =
      fullSignature === null ? null : t.str('data.message.reply.signature', fullSignature, stage.short);
    event.data.message.reply.signature = signature;
    const base = jsonBytes(event) + markRoom;
    const room = maxBytes - base;
    const last = i === STAGES.length - 1;
    if (room < 0 && !last) continue;
    const textCost = jsonBytes(fullText) - 2;
    const replyCost = jsonBytes(fullReply) - 2;
    const space = Math.max(0, room);
    let replyRoom = replyCost;
    let textRoom = textCost;
    if (replyCost + textCost > space) {
      replyRoom = Math.min(replyCost, Math.floor(space / 2));
      textRoom = space - replyRoom;
    }
    const reply = truncateToJsonBytes(fullReply, replyRoom);
    const text = truncateToJsonBytes(fullText, textRoom);
    if (reply.length < fullReply.length) t.cut.add('data.message.reply.text');
    if (text.length < fullText.length) t.cut.add('data.message.text');
    event.data.message.reply.text = reply;
    if (m.text !== null) event.data.message.text = text;
    event.truncatedFields = [...t.cut].sort();
    event.truncated = event.truncatedFields.length > 0;
    if (jsonBytes(event) <= maxBytes || last) return event;
  }
  throw new Error('unreachable: the last stage always returns');
}
