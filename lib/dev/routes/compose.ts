import { composeMime, parseComposeRequest } from '../compose.ts';
import { envelopeParams } from '../envelope-params.ts';
import { HttpError } from '../errors.ts';
import type { RouteHandler } from './context.ts';
import { actionWords } from './message-detail.ts';
import { acceptMessage } from './messages.ts';
import { json, readJson } from './respond.ts';

// Sending a test message through the pipeline, and checking a recipient as RCPT would.

/**
 * `POST /api/compose` JSON `{from, to, cc?, subject, text?, html?, attachments?}` → 201 `{id, refused?}`:
 * built into MIME and handed to the same pipeline as SMTP (envelope: from; to + cc). 413 over the size limit.
 */
export const composeMessage: RouteHandler = async (deps, req, res) => {
  const max = deps.config.smtp.maxMessageBytes;
  // Attachments arrive as base64 (4 bytes for 3) inside JSON: the body may be that much larger.
  const request = parseComposeRequest(
    await readJson(req, Math.ceil((max * 4) / 3) + 64 * 1024),
    deps.config.smtp.maxRecipients,
  );
  const raw = await composeMime(request);
  if (raw.length > max) throw new HttpError(413, `message exceeds ${max} bytes`);
  const envelope = { from: request.from.address, to: [...request.to, ...request.cc] };
  json(res, 201, await acceptMessage(deps, req, envelope, raw));
};

/**
 * `GET /api/route?rcpt=ADDR[&from=ADDR]` → what RCPT TO would answer (the ingress's check), and the
 * routes the current config takes the recipient to for a message with no content yet.
 */
export const checkRoute: RouteHandler = async (deps, _req, res, url) => {
  const rcpts = url.searchParams.getAll('rcpt');
  if (rcpts.length !== 1) throw new HttpError(400, 'give one rcpt=ADDR');
  const probe = new URL('http://localhost/');
  probe.searchParams.set('to', rcpts[0]!);
  for (const from of url.searchParams.getAll('from')) probe.searchParams.append('from', from);
  const { from, to } = envelopeParams(probe);
  const recipient = to[0];
  if (to.length !== 1 || recipient === undefined) throw new HttpError(400, 'rcpt= must be one address');
  const verdict = deps.router.checkRecipient(recipient, { mailFrom: from });
  const explained = deps.router.explain(recipient, { mailFrom: from });
  json(res, 200, {
    recipient: explained.recipient,
    accepted: verdict.accepted,
    matched: explained.matches.map((m) => ({
      route: m.route,
      params: m.params,
      actions: m.actions.map(actionWords),
    })),
    rejected: verdict.accepted ? null : { code: verdict.code, message: verdict.message },
    considered: explained.considered,
  });
};
