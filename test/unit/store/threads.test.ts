import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

/** A message as a client would write it: header lines, a blank line, the body; CRLF line ends. */
function eml(headers: string[], body: string[]): Buffer {
  return Buffer.from([...headers, '', ...body, ''].join('\r\n'));
}

/** An Outlook Thread-Index: 22 bytes naming the conversation, then 5 bytes per reply. */
function threadIndex(root: Buffer, replies: number): string {
  const blocks = Array.from({ length: replies }, (_, i) => Buffer.from([0x01, 0x02, 0x03, 0x04, i]));
  return Buffer.concat([root, ...blocks]).toString('base64');
}

const outlookRoot = Buffer.from('01da9c1e5f4b7a3e2d1c0b9a8f7e6d5c4b3a2918f0e1', 'hex');

describe('SqliteMessageStore threads', () => {
  let store: SqliteMessageStore;
  let n = 0;

  /** Records and parses one message the way the pipeline does; returns the thread it was filed in. */
  const receive = async (id: string, raw: Buffer): Promise<string> => {
    n += 1;
    const receivedAt = new Date(Date.UTC(2024, 4, 1, 12, n)).toISOString();
    await store.recordReceived({
      id,
      receivedAt,
      envelope: { mailFrom: 'sender@example.net', rcptTo: ['support@example.com'] },
      size: raw.length,
    });
    const parsed = await parseMessage(raw);
    const { threadId } = await store.saveParsed(id, parsed);
    return threadId;
  };
  const threadOf = async (threadId: string) => (await store.listThread(threadId)).map((m) => m.id);

  beforeEach(() => {
    store = new SqliteMessageStore(':memory:');
    n = 0;
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps a Gmail conversation (References chain) in one thread, oldest first', async () => {
    const first = eml(
      [
        'MIME-Version: 1.0',
        'Date: Wed, 1 May 2024 12:00:00 +0200',
        'Message-ID: <CAJ2kQ7vN3x0Yk+f8T1rZpL4mWq-d9Xe5bGQ@mail.gmail.com>',
        'Subject: Printer on fire',
        'From: Ada Lovelace <ada.lovelace@gmail.com>',
        'To: support@example.com',
        'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60718"',
      ],
      [
        '--000000000000a1b2c3d4e5f60718',
        'Content-Type: text/plain; charset="UTF-8"',
        '',
        'The printer on floor 3 is on fire.',
        '',
        '--000000000000a1b2c3d4e5f60718',
        'Content-Type: text/html; charset="UTF-8"',
        '',
        '<div dir="ltr">The printer on floor 3 is on fire.</div>',
        '',
        '--000000000000a1b2c3d4e5f60718--',
      ],
    );
    // Ada answers our reply (which this store never received): the chain still starts at her first message.
    const second = eml(
      [
        'MIME-Version: 1.0',
        'References: <CAJ2kQ7vN3x0Yk+f8T1rZpL4mWq-d9Xe5bGQ@mail.gmail.com>',
        ' <0f3a9c@example.com>',
        'In-Reply-To: <0f3a9c@example.com>',
        'Date: Wed, 1 May 2024 13:10:00 +0200',
        'Message-ID: <CAJ2kQ7sPq0VvW3mV8bQ1Xk2=Ln5hYt7u@mail.gmail.com>',
        'Subject: Re: Printer on fire',
        'From: Ada Lovelace <ada.lovelace@gmail.com>',
        'To: Support <support@example.com>',
        'Cc: Bob <bob@example.org>',
        'Content-Type: text/plain; charset="UTF-8"',
      ],
      [
        'It is out now, thanks.',
        '',
        'On Wed, May 1, 2024 at 12:30 PM Support <support@example.com> wrote:',
        '> Please leave the building.',
      ],
    );
    const third = eml(
      [
        'MIME-Version: 1.0',
        'References: <CAJ2kQ7vN3x0Yk+f8T1rZpL4mWq-d9Xe5bGQ@mail.gmail.com> <0f3a9c@example.com>',
        ' <CAJ2kQ7sPq0VvW3mV8bQ1Xk2=Ln5hYt7u@mail.gmail.com>',
        'In-Reply-To: <CAJ2kQ7sPq0VvW3mV8bQ1Xk2=Ln5hYt7u@mail.gmail.com>',
        'Date: Wed, 1 May 2024 14:00:00 +0200',
        'Message-ID: <CAM9xT4bQ8hN2Lr6Vd0u=Kp1sWz3eYc@mail.gmail.com>',
        'Subject: Re: Printer on fire',
        'From: Bob <bob@example.org>',
        'To: Ada Lovelace <ada.lovelace@gmail.com>, support@example.com',
        'Content-Type: text/plain; charset="UTF-8"',
      ],
      ['Who ordered that printer anyway?'],
    );
    const t1 = await receive('g1', first);
    expect(await receive('g2', second)).toBe(t1);
    expect(await receive('g3', third)).toBe(t1);
    expect(t1).toBe((await parseMessage(first)).thread.id);
    expect(await threadOf(t1)).toEqual(['g1', 'g2', 'g3']);
    const summaries = await store.listThread(t1);
    expect(summaries.map((s) => s.subject)).toEqual([
      'Printer on fire',
      'Re: Printer on fire',
      'Re: Printer on fire',
    ]);
    expect(summaries.every((s) => s.threadId === t1)).toBe(true);
    expect((await store.getMessage('g3'))?.parsed?.thread.id).toBe(t1);
  });

  it('keeps an Outlook conversation (Thread-Index, In-Reply-To only, RE:/AW:) in one thread', async () => {
    const first = eml(
      [
        'From: Bob Builder <bob@contoso.com>',
        'To: "support@example.com" <support@example.com>',
        'Subject: Quote request',
        'Thread-Topic: Quote request',
        `Thread-Index: ${threadIndex(outlookRoot, 0)}`,
        'Date: Wed, 1 May 2024 10:00:00 +0000',
        'Message-ID: <DM6PR11MB4657A1B2C3D4E5F6A7B8C9D0A1B2C3D4@DM6PR11MB4657.namprd11.prod.outlook.com>',
        'Accept-Language: en-US',
        'Content-Language: en-US',
        'X-MS-Has-Attach:',
        'X-MS-TNEF-Correlator:',
        'Content-Type: text/plain; charset="us-ascii"',
        'Content-Transfer-Encoding: quoted-printable',
        'MIME-Version: 1.0',
      ],
      ['Could you send a quote for 40 units?'],
    );
    // Bob answers our reply, which Exchange names as the only reference; the Thread-Index still matches.
    const second = eml(
      [
        'From: Bob Builder <bob@contoso.com>',
        'To: Support <support@example.com>',
        'Subject: RE: Quote request',
        'Thread-Topic: Quote request',
        `Thread-Index: ${threadIndex(outlookRoot, 2)}`,
        'Date: Thu, 2 May 2024 09:00:00 +0000',
        'Message-ID: <DM6PR11MB4657B7C8D9E0F1A2B3C4D5E6F7A8B9C0@DM6PR11MB4657.namprd11.prod.outlook.com>',
        'References: <7d41c2aa@example.com>',
        'In-Reply-To: <7d41c2aa@example.com>',
        'Content-Type: text/plain; charset="us-ascii"',
        'MIME-Version: 1.0',
      ],
      [
        'Thanks, 40 units it is.',
        '',
        '-----Original Message-----',
        'From: Support <support@example.com>',
        'Sent: Wednesday, May 1, 2024 11:00 AM',
      ],
    );
    // A German colleague answers Bob: In-Reply-To only, no References, "AW:".
    const third = eml(
      [
        'From: =?iso-8859-1?Q?J=FCrgen_M=FCller?= <juergen@contoso.com>',
        'To: Bob Builder <bob@contoso.com>',
        'CC: support@example.com',
        'Subject: AW: Quote request',
        `Thread-Index: ${threadIndex(outlookRoot, 3)}`,
        'Date: Thu, 2 May 2024 10:00:00 +0000',
        'Message-ID: <AM0PR07MB6113C1D2E3F4A5B6C7D8E9F0A1B2C3D4@AM0PR07MB6113.eurprd07.prod.outlook.com>',
        'In-Reply-To: <DM6PR11MB4657B7C8D9E0F1A2B3C4D5E6F7A8B9C0@DM6PR11MB4657.namprd11.prod.outlook.com>',
        'Content-Type: text/plain; charset="iso-8859-1"',
        'Content-Transfer-Encoding: quoted-printable',
        'MIME-Version: 1.0',
      ],
      ['Bitte auch 10 f=FCr uns.'],
    );
    const t1 = await receive('o1', first);
    const secondParsed = await parseMessage(second);
    expect(secondParsed.thread.id).not.toBe(t1); // the parser alone cannot see it: the store can
    expect(await receive('o2', second)).toBe(t1);
    expect(await receive('o3', third)).toBe(t1);
    expect(await threadOf(t1)).toEqual(['o1', 'o2', 'o3']);
  });

  it('keeps an Apple Mail conversation in one thread', async () => {
    const first = eml(
      [
        'From: Grace Hopper <grace.hopper@icloud.com>',
        'Content-Type: text/plain; charset=us-ascii',
        'Content-Transfer-Encoding: 7bit',
        'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))',
        'Subject: Invoice 42',
        'Message-Id: <9F1B2C3D-4E5F-4A6B-8C7D-0E1F2A3B4C5D@icloud.com>',
        'Date: Wed, 1 May 2024 08:00:00 -0700',
        'To: billing@example.com',
        'X-Mailer: Apple Mail (2.3774.500.171.1.1)',
      ],
      ['Invoice 42 is charged twice.'],
    );
    const second = eml(
      [
        'From: Grace Hopper <grace.hopper@icloud.com>',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))',
        'Subject: Re: Invoice 42',
        'Message-Id: <2A7C9E1F-3B5D-4F60-A1C2-D3E4F5A6B7C8@icloud.com>',
        'Date: Wed, 1 May 2024 09:30:00 -0700',
        'References: <9F1B2C3D-4E5F-4A6B-8C7D-0E1F2A3B4C5D@icloud.com>',
        ' <5e0c11b2@example.com>',
        'In-Reply-To: <5e0c11b2@example.com>',
        'To: Billing <billing@example.com>',
        'X-Mailer: Apple Mail (2.3774.500.171.1.1)',
      ],
      ['Thanks!', '', '> On 1. May 2024, at 09:00, Billing <billing@example.com> wrote:', '> Refunded.'],
    );
    const t1 = await receive('a1', first);
    expect(await receive('a2', second)).toBe(t1);
    expect(await threadOf(t1)).toEqual(['a1', 'a2']);
  });

  it('files a reply without References or In-Reply-To by subject and participants', async () => {
    const mail = (id: string, from: string, subject: string) =>
      eml(
        [
          `From: ${from}`,
          'To: support@example.com',
          `Subject: ${subject}`,
          `Message-ID: <${id}@mail.example.org>`,
          'Date: Wed, 1 May 2024 08:00:00 +0000',
        ],
        ['text'],
      );
    const t1 = await receive('s1', mail('s1', 'Dan <dan@example.org>', 'Printer jammed'));
    // a client that drops the references (webmail, some phones): same subject, same people
    expect(await receive('s2', mail('s2', 'dan@example.org', 'Re: Printer jammed'))).toBe(t1);
    expect(await receive('s3', mail('s3', 'Dan <DAN@example.org>', 'RE:  printer   JAMMED'))).toBe(t1);
    // other participants: another conversation
    expect(await receive('s4', mail('s4', 'eve@example.net', 'Re: Printer jammed'))).not.toBe(t1);
    // no reply prefix: a new message that happens to share the subject
    expect(await receive('s5', mail('s5', 'dan@example.org', 'Printer jammed'))).not.toBe(t1);
    expect(await threadOf(t1)).toEqual(['s1', 's2', 's3']);
  });

  it('a message without Message-ID or references falls back to subject and participants', async () => {
    const mail = (subject: string) =>
      eml(['From: dan@example.org', 'To: support@example.com', `Subject: ${subject}`], ['text']);
    const t1 = await receive('n1', mail('Toner'));
    expect(await receive('n2', mail('Re: Toner'))).toBe(t1);
    expect(await threadOf(t1)).toEqual(['n1', 'n2']);
  });

  it('moves replies that arrived before their parent into the parent thread', async () => {
    const root = eml(
      ['From: a@example.org', 'To: support@example.com', 'Subject: Root', 'Message-ID: <root@example.org>'],
      ['root'],
    );
    const middle = eml(
      [
        'From: b@example.org',
        'To: support@example.com',
        'Subject: Re: Root',
        'Message-ID: <middle@example.org>',
        'In-Reply-To: <unknown-parent@example.org>',
        'References: <root@example.org> <unknown-parent@example.org>',
      ],
      ['middle'],
    );
    const early = eml(
      [
        'From: c@example.org',
        'To: support@example.com',
        'Subject: Re: Root',
        'Message-ID: <early@example.org>',
        'In-Reply-To: <late@example.org>',
      ],
      ['early'],
    );
    const late = eml(
      [
        'From: b@example.org',
        'To: support@example.com',
        'Subject: Re: Root',
        'Message-ID: <late@example.org>',
        'In-Reply-To: <middle@example.org>',
      ],
      ['late'],
    );
    const t1 = await receive('r1', root);
    expect(await receive('r2', middle)).toBe(t1);
    const early3 = await receive('r3', early); // its parent is not here yet
    expect(early3).not.toBe(t1);
    expect(await receive('r4', late)).toBe(t1);
    expect(await threadOf(t1)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(await store.listThread(early3)).toEqual([]);
    expect((await store.getMessage('r3'))?.parsed?.thread.id).toBe(t1);
  });

  it('keeps unrelated messages apart and limits a listing', async () => {
    const mail = (id: string, subject: string) =>
      eml(
        [
          'From: x@example.org',
          'To: support@example.com',
          `Subject: ${subject}`,
          `Message-ID: <${id}@example.org>`,
        ],
        ['x'],
      );
    const a = await receive('u1', mail('u1', 'One'));
    const b = await receive('u2', mail('u2', 'Two'));
    expect(a).not.toBe(b);
    expect(await threadOf(a)).toEqual(['u1']);
    expect(await store.listThread('000000000000000000000000')).toEqual([]);
    for (let i = 0; i < 3; i++) {
      await receive(
        `l${i}`,
        eml(
          [
            'From: x@example.org',
            'Subject: Re: One',
            `Message-ID: <l${i}@example.org>`,
            'References: <u1@example.org>',
          ],
          ['x'],
        ),
      );
    }
    expect((await store.listThread(a, { limit: 2 })).map((m) => m.id)).toEqual(['u1', 'l0']);
  });

  it('ignores a malformed Thread-Index', async () => {
    const mail = (id: string, index: string) =>
      eml(
        ['From: x@example.org', 'Subject: Hi', `Message-ID: <${id}@example.org>`, `Thread-Index: ${index}`],
        ['x'],
      );
    const a = await receive('x1', mail('x1', 'AQHa'));
    expect(await receive('x2', mail('x2', 'AQHa'))).not.toBe(a);
    const c = await receive('x3', mail('x3', '!!not base64!!'));
    expect(await receive('x4', mail('x4', '!!not base64!!'))).not.toBe(c);
  });
});
