import type { Address, ParsedMessage } from '../message/index.ts';
import { OutboundConfigError } from './errors.ts';
import { displayName, headerText } from './header-text.ts';
import { replySubject } from './reply-subject.ts';
import { isSendableAddress } from './sender-address.ts';
import type { OutboundEnvelope, ReplyOptions } from './types.ts';

/** Everything a reply is built from. */
export interface ComposeReplyInput {
  /** The message replied to. */
  original: ParsedMessage;
  from: Address;
  to: Address[];
  /** The reply's Message-ID, with brackets. */
  messageId: string;
  date: Date;
  options: ReplyOptions;
}

/** A reply ready to send. */
export interface ComposedReply {
  raw: Buffer;
  envelope: OutboundEnvelope;
  messageId: string;
  subject: string;
}

/** A message id fit to repeat in a header: printable ASCII in brackets, not absurdly long. */
function usableId(id: string | null | undefined): id is string {
  return typeof id === 'string' && id.length <= 250 && /^<[\x21-\x3b\x3d\x3f-\x7e]+>$/.test(id);
}

/** At most this many ids in References: the root and the nearest ones (RFC 5322 §3.6.4 allows trimming). */
const MAX_REFERENCES = 20;

/**
 * The References of a reply (RFC 5322 §3.6.4): the original's References (or, without them, its single
 * In-Reply-To), then the original's Message-ID. Long chains keep their root and the nearest ids.
 */
export function replyReferences(original: ParsedMessage): string[] {
  let refs = original.references.filter(usableId);
  if (refs.length === 0 && usableId(original.inReplyTo)) refs = [original.inReplyTo];
  if (usableId(original.messageId)) {
    const own = original.messageId;
    refs = [...refs.filter((r) => r !== own), own];
  }
  if (refs.length > MAX_REFERENCES) refs = [refs[0]!, ...refs.slice(refs.length - (MAX_REFERENCES - 1))];
  return refs;
}

/**
 * Builds the reply with nodemailer's MailComposer: To as given, In-Reply-To = the original's Message-ID,
 * References per {@link replyReferences}, Subject per {@link replySubject}, `Auto-Submitted: auto-replied`
 * and `X-Auto-Response-Suppress: All` when automatic. Attachments are content only (no file or URL access).
 * Control characters (CR, LF, NUL, …) in the subject, display names and filenames become spaces.
 * @throws OutboundConfigError when `options.replyTo` is not one plain mailbox.
 */
export async function composeReply(input: ComposeReplyInput): Promise<ComposedReply> {
  const { original, from, to, messageId, date, options } = input;
  const automatic = options.automatic ?? true;
  if (options.replyTo !== undefined && !isSendableAddress(options.replyTo)) {
    throw new OutboundConfigError(`replyTo ${JSON.stringify(options.replyTo)} is not one plain mailbox`);
  }
  const subject = replySubject(original.subject);
  const references = replyReferences(original);
  const headers: Record<string, string> = {};
  if (automatic) {
    headers['Auto-Submitted'] = 'auto-replied';
    headers['X-Auto-Response-Suppress'] = 'All';
  }
  // Loaded on first reply: processes that never reply (most Lambda invocations) never load it.
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const composer = new MailComposer({
    // Names and filenames may come from the original (decoded encoded-words too): no controls reach a header.
    from: { name: displayName(from.name), address: from.address },
    to: to.map((a) => ({ name: displayName(a.name), address: a.address })),
    subject,
    messageId,
    date,
    replyTo: options.replyTo,
    inReplyTo: usableId(original.messageId) ? original.messageId : undefined,
    references: references.length > 0 ? references : undefined,
    text: options.text,
    html: options.html,
    attachments: (options.attachments ?? []).map((a) => ({
      filename: headerText(a.filename),
      content: a.content,
      contentType: a.contentType,
      cid: a.cid,
    })),
    headers,
    disableFileAccess: true,
    disableUrlAccess: true,
    newline: 'windows',
  });
  const raw = await composer.compile().build();
  return { raw, envelope: { from: from.address, to: to.map((a) => a.address) }, messageId, subject };
}
