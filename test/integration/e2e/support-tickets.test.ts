import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../../lib/message/index.ts';
import type { MessageDetail, MessageSummary, OutboxSummary } from '../../../lib/store/index.ts';
import {
  getJson,
  type MailroomProcess,
  projectRoot,
  startMailroomProcess,
  waitFor,
} from '../../support/mailroom-process.ts';

type Entry = { messageId: string; data: { ticket: string; kind: string; text: string; from: string } };

/** The support-ticket example, driven over SMTP like a customer's mail client would. */
describe('example: support tickets over SMTP', () => {
  let mr: MailroomProcess;
  beforeAll(async () => {
    mr = await startMailroomProcess({ config: `${projectRoot}/examples/support-tickets/mailroom.config.ts` });
  });
  afterAll(async () => {
    await mr?.stop();
  });

  const send = async (raw: string, to: string) => {
    const info = await createTransport({
      host: '127.0.0.1',
      port: mr.smtpPort,
      secure: false,
      ignoreTLS: true,
    }).sendMail({
      envelope: { from: 'grace@customer.test', to: [to] },
      raw: raw.replace(/\r?\n/g, '\r\n'),
    });
    return info.response.match(/queued as (\S+)/)![1]!;
  };
  const processed = (id: string) =>
    waitFor(async () => {
      const m = await getJson<MessageDetail>(`${mr.api}/api/messages/${id}`);
      return m.status === 'processed' || m.status === 'failed' ? m : null;
    }, `message ${id} processed`);

  it('opens a ticket, acknowledges it with a signed reply address, and files the answer with only the new text', async () => {
    const opening = await processed(
      await send(
        `From: Grace Hopper <grace@customer.test>
To: support@example.com
Subject: Printer on fire
Message-ID: <first@customer.test>
Date: Sat, 28 Nov 2026 09:00:00 +0000

The printer on floor 3 is on fire again.

Grace
`,
        'support@example.com',
      ),
    );
    expect(opening.deliveries).toMatchObject([{ route: 'new-ticket', status: 'delivered' }]);

    // The acknowledgement: a correct reply, kept in the dev outbox.
    const { messages: outbox } = await getJson<{ messages: OutboxSummary[] }>(
      `${mr.api}/api/outbox?inReplyTo=${opening.id}`,
    );
    expect(outbox).toHaveLength(1);
    const ack = await parseMessage(
      Buffer.from(await (await fetch(`${mr.api}/api/outbox/${outbox[0]!.id}/raw`)).arrayBuffer()),
    );
    expect(ack.to).toEqual([{ address: 'grace@customer.test', name: 'Grace Hopper' }]);
    expect(ack.from).toEqual({ address: 'support@example.com', name: 'Example Support' });
    expect(ack.subject).toBe('Re: Printer on fire');
    expect(ack.inReplyTo).toBe('<first@customer.test>');
    expect(ack.headers).toContainEqual({ key: 'auto-submitted', value: 'auto-replied' });
    const replyTo = ack.replyTo[0]!.address;
    expect(replyTo).toMatch(/^reply\+[a-z0-9]+@example\.com$/);
    expect(replyTo.split('@')[0]!.length).toBeLessThanOrEqual(64);

    // The customer answers from their mail client, quoting the acknowledgement.
    const answer = await processed(
      await send(
        `From: Grace Hopper <grace@customer.test>
To: ${replyTo}
Subject: Re: Printer on fire
Message-ID: <second@customer.test>
In-Reply-To: ${ack.messageId}
References: <first@customer.test> ${ack.messageId}
Date: Sat, 28 Nov 2026 09:30:00 +0000

It is out now, but the paper tray is melted.

On Sat, 28 Nov 2026 at 09:00, Example Support <support@example.com> wrote:
> Thanks for writing to us. Your request is ticket 123.
>
> Reply to this email to add to it.
`,
        replyTo.toUpperCase().replace('@EXAMPLE.COM', '@example.com'), // a relay that uppercases local parts
      ),
    );
    expect(answer.deliveries).toMatchObject([{ route: 'ticket-reply', status: 'delivered' }]);

    const { entries } = await getJson<{ entries: Entry[] }>(`${mr.api}/api/mailboxes/tickets`);
    const opened = entries.find((e) => e.messageId === opening.id)!.data;
    const reply = entries.find((e) => e.messageId === answer.id)!.data;
    expect(reply).toEqual({
      ticket: opened.ticket,
      kind: 'reply',
      from: 'grace@customer.test',
      text: 'It is out now, but the paper tray is melted.',
    });

    // Both messages are one thread.
    const thread = await getJson<{ messages: MessageSummary[] }>(
      `${mr.api}/api/threads/${opening.parsed!.thread.id}`,
    );
    expect(thread.messages.map((m) => m.id)).toEqual([opening.id, answer.id]);
  });

  it('refuses a forged reply address at RCPT, and never acknowledges automatic mail', async () => {
    const forged = await send('Subject: x\n\nhi\n', 'reply+b7777777777777777777777777@example.com').catch(
      (e: { response: string }) => e.response,
    );
    expect(forged).toMatch(/^550 5\.7\.1 /);

    const auto = await processed(
      await send(
        `From: robot@customer.test
To: support@example.com
Subject: Out of office
Auto-Submitted: auto-replied
Message-ID: <ooo@customer.test>

I am away.
`,
        'support@example.com',
      ),
    );
    expect(auto.deliveries).toMatchObject([{ route: 'new-ticket', status: 'delivered' }]);
    const { messages } = await getJson<{ messages: OutboxSummary[] }>(
      `${mr.api}/api/outbox?inReplyTo=${auto.id}`,
    );
    expect(messages).toEqual([]);
  });
});
