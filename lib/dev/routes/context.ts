import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MailroomConfig } from '../../config/index.ts';
import type { Pipeline } from '../../pipeline/index.ts';
import type { Router } from '../../routing/index.ts';
import type { DeletableRawStore, MessageHousekeeping, MessageStore } from '../../store/index.ts';
import type { DevAttachments } from '../attachment-routes.ts';
import type { SseHub } from '../sse-hub.ts';

/** What every route of the dev HTTP API works with. */
export interface HttpApiDeps {
  config: MailroomConfig;
  pipeline: Pipeline;
  router: Router;
  /** The dev page's routes (delete, read state, mailbox counts) need the housekeeping port too. */
  store: MessageStore & MessageHousekeeping;
  rawStore: DeletableRawStore;
  events: SseHub;
  /**
   * Where attachments are kept and how their `/files/` links are signed: a delete removes those no
   * remaining message lists.
   */
  attachments?: DevAttachments;
}

/** One route's handler: `m` holds the path pattern's captures (`m[1]` the first). */
export type RouteHandler = (
  deps: HttpApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  m: RegExpMatchArray,
) => Promise<void>;
