import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MailroomConfig } from '../../config/index.ts';
import type { Pipeline } from '../../pipeline/index.ts';
import type { Router } from '../../routing/index.ts';
import type { AttachmentStore, MessageHousekeeping, MessageStore, RawStore } from '../../store/index.ts';
import { HttpError } from '../errors.ts';
import type { SseHub } from '../sse-hub.ts';

/** A raw store that can delete a message's bytes (the local one). */
export interface RawDeletion {
  delete(id: string): unknown;
}

/** What every route of the dev HTTP API works with. */
export interface HttpApiDeps {
  config: MailroomConfig;
  pipeline: Pipeline;
  router: Router;
  /** The dev page's routes (delete, read state, mailbox counts) need the housekeeping port too. */
  store: MessageStore & Partial<MessageHousekeeping>;
  rawStore: RawStore & Partial<RawDeletion>;
  events: SseHub;
  /**
   * Where attachments are kept (att-core's `DevAttachments` fits): a delete removes those no remaining
   * message lists.
   */
  attachments?: { store: AttachmentStore };
}

/** One route's handler: `m` holds the path pattern's captures (`m[1]` the first). */
export type RouteHandler = (
  deps: HttpApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  m: RegExpMatchArray,
) => Promise<void>;

/** The housekeeping port of the store, or a 501 saying this store has none. */
export function housekeeping(deps: HttpApiDeps): MessageHousekeeping {
  const { store } = deps;
  if (
    typeof store.deleteMessage === 'function' &&
    typeof store.setRead === 'function' &&
    typeof store.listMailboxes === 'function'
  ) {
    return store as MessageStore & MessageHousekeeping;
  }
  throw new HttpError(501, 'this message store cannot delete messages, keep read state or count mailboxes');
}
