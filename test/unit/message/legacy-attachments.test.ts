import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type AttachmentSink, extractAttachment, parseMessage } from '../../../lib/message/index.ts';
import { binhex, mixed, tnef, uuencode } from './legacy-fixtures.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function memorySink(failOn?: number): { sink: AttachmentSink; kept: Map<string, Buffer> } {
  const kept = new Map<string, Buffer>();
  let begun = 0;
  const sink: AttachmentSink = {
    begin() {
      const n = begun++;
      const chunks: Buffer[] = [];
      return {
        async write(chunk) {
          if (n === failOn) throw new Error('disk full');
          chunks.push(Buffer.from(chunk));
        },
        async commit(hash) {
          kept.set(hash, Buffer.concat(chunks));
          return { created: true, size: 0 };
        },
        async abort() {},
      };
    },
  };
  return { sink, kept };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const gif = Buffer.concat([Buffer.from('GIF89a'), randomBytes(3000)]);
/** A plain (non-MIME) mail with a uuencoded file, as old mailing-list and Usenet clients sent it. */
const usenet = Buffer.from(
  [
    'From: eryq@zeegee.test',
    'To: list@example.com',
    'Subject: the logo',
    'Date: Tue, 25 Apr 2000 06:34:43 -0500',
    'Message-ID: <uu@zeegee.test>',
    '',
    "I've uuencoded the logo below.",
    '',
    uuencode('logo.gif', gif),
    '',
    'Cheers, Eryq',
    '',
  ]
    .join('\n')
    .replace(/\n/g, '\r\n'),
);

describe('uuencoded blocks in the text', () => {
  it('become attachments, stored through the sink, and leave the text', async () => {
    const { sink, kept } = memorySink();
    const message = await parseMessage(usenet, undefined, { attachments: { sink } });
    expect(message.text).toBe("I've uuencoded the logo below.\n\n\nCheers, Eryq\n");
    expect(message.attachments).toEqual([
      {
        filename: 'logo.gif',
        contentType: 'image/gif',
        size: gif.length,
        sha256: sha256(gif),
        contentId: null,
        disposition: 'attachment',
        url: null,
        stored: true,
        related: false,
        source: { part: 'text', encoding: 'uuencode' },
      },
    ]);
    expect(kept.get(sha256(gif))?.equals(gif)).toBe(true);
    expect(message.reply.text).toContain("I've uuencoded the logo below.");
    expect(message.reply.text).not.toContain('begin 644');
  });

  it('can be extracted again by index', async () => {
    expect((await readAll(extractAttachment(usenet, 0))).equals(gif)).toBe(true);
  });

  it('are described but not stored when the sink fails or keep() says no', async () => {
    const failing = await parseMessage(usenet, undefined, { attachments: { sink: memorySink(0).sink } });
    expect(failing.attachments[0]!.stored).toBe(false);
    expect(failing.problems).toContain('attachment-not-stored: attachment 0 could not be stored: disk full');
    const { sink, kept } = memorySink();
    const skipped = await parseMessage(usenet, undefined, { attachments: { sink, keep: () => false } });
    expect(skipped.attachments[0]!.stored).toBe(false);
    expect(kept.size).toBe(0);
  });
});

describe('containers: x-uuencode, BinHex, TNEF', () => {
  it('lists an Outlook winmail.dat as a container and its two files after it', async () => {
    const xlsx = randomBytes(4000);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(2000)]);
    const dat = tnef([
      { title: 'BUDGET~1.XLS', longName: 'Budget 2027.xlsx', data: xlsx },
      { title: 'minutes.pdf', data: pdf, mimeTag: 'application/pdf' },
    ]);
    const raw = mixed('See attached.', [
      {
        headers: [
          'Content-Type: application/ms-tnef; name="winmail.dat"',
          'Content-Transfer-Encoding: base64',
          'Content-Disposition: attachment; filename="winmail.dat"',
        ],
        body: (dat.toString('base64').match(/.{1,76}/g) ?? []).join('\n'),
      },
    ]);
    const { sink, kept } = memorySink();
    const message = await parseMessage(raw, undefined, { attachments: { sink } });
    expect(message.problems).toEqual([]);
    const [container, ...files] = message.attachments;
    expect(container).toMatchObject({
      filename: 'winmail.dat',
      container: true,
      size: dat.length,
      stored: true,
    });
    expect(files.map((f) => [f.filename, f.contentType, f.size, f.sha256, f.stored, f.source])).toEqual([
      [
        'Budget 2027.xlsx',
        expect.stringMatching(/spreadsheetml/),
        4000,
        sha256(xlsx),
        true,
        { part: 0, encoding: 'tnef' },
      ],
      ['minutes.pdf', 'application/pdf', pdf.length, sha256(pdf), true, { part: 0, encoding: 'tnef' }],
    ]);
    expect(kept.get(sha256(pdf))?.equals(pdf)).toBe(true);
    expect((await readAll(extractAttachment(raw, 2))).equals(pdf)).toBe(true);
  });

  it('decodes a BinHex part and an x-uuencode part', async () => {
    const doc = Buffer.from('Die Hasen und die Frösche', 'latin1');
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(700)]);
    const raw = mixed('Two files.', [
      {
        headers: [
          'Content-Type: application/mac-binhex40; name="fabel.txt"',
          'Content-Disposition: attachment',
        ],
        body: binhex('fabel.txt', doc),
      },
      {
        headers: ['Content-Type: image/png; name="ball.png"', 'Content-Transfer-Encoding: x-uuencode'],
        body: uuencode('ball.png', png),
      },
    ]);
    const message = await parseMessage(raw);
    expect(message.problems).toEqual([]);
    expect(
      message.attachments.map((a) => [a.filename, a.contentType, a.size, a.container, a.source]),
    ).toEqual([
      ['fabel.txt', 'application/mac-binhex40', expect.any(Number), true, undefined],
      ['ball.png', 'image/png', expect.any(Number), true, undefined],
      ['fabel.txt', 'text/plain', doc.length, undefined, { part: 0, encoding: 'binhex' }],
      ['ball.png', 'image/png', png.length, undefined, { part: 1, encoding: 'uuencode' }],
    ]);
    expect(message.attachments[3]!.sha256).toBe(sha256(png));
  });

  it('turns truncated or garbage containers into problems, keeping the part listed', async () => {
    const dat = tnef([{ title: 'a.bin', data: randomBytes(3000) }]);
    const raw = mixed('Broken files.', [
      {
        headers: ['Content-Type: application/ms-tnef', 'Content-Transfer-Encoding: base64'],
        body: dat.subarray(0, 1500).toString('base64'),
      },
      { headers: ['Content-Type: application/mac-binhex40; name="x.hqx"'], body: 'garbage, no marker' },
      {
        headers: [
          'Content-Type: application/octet-stream; name="y"',
          'Content-Transfer-Encoding: x-uuencode',
        ],
        body: 'begin 644 y\nM this is not uuencode at all, but it has the length of a line!!\nend',
      },
    ]);
    const message = await parseMessage(raw);
    expect(message.attachments.map((a) => a.container)).toEqual([true, true, true]);
    expect(message.problems).toEqual([
      expect.stringMatching(/^tnef-truncated: .* \(attachment 0\)$/),
      'binhex-invalid: no "(This file must be converted with BinHex" line (attachment 1)',
      expect.stringMatching(/^uuencode-invalid: block "y": a line is not uuencoded: .* \(attachment 2\)$/),
    ]);
  });

  it('finishes a 5 MB garbage winmail.dat with a problem', async () => {
    const garbage = randomBytes(5 * 1024 * 1024);
    garbage.writeUInt32LE(0x223e9f78, 0);
    const raw = mixed('Outlook sent this.', [
      {
        headers: [
          'Content-Type: application/ms-tnef; name="winmail.dat"',
          'Content-Transfer-Encoding: base64',
        ],
        body: (garbage.toString('base64').match(/.{1,76}/g) ?? []).join('\n'),
      },
    ]);
    const message = await parseMessage(raw);
    expect(message.attachments[0]).toMatchObject({
      filename: 'winmail.dat',
      container: true,
      size: garbage.length,
    });
    expect(message.problems.some((p) => p.startsWith('tnef-'))).toBe(true);
    expect(message.text).toBe('Outlook sent this.');
  });
});

describe('signed and encrypted mail', () => {
  const signed = (protocol: string, type: string, name: string) =>
    Buffer.from(
      [
        'From: Ada <ada@sender.test>',
        'To: b@example.com',
        'Subject: signed',
        'Message-ID: <s@sender.test>',
        'Date: Mon, 7 Dec 2026 10:00:00 +0000',
        'MIME-Version: 1.0',
        `Content-Type: multipart/signed; protocol="${protocol}"; micalg=sha-256; boundary="s1"`,
        '',
        '--s1',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        'Signed hello.',
        '--s1',
        `Content-Type: ${type}; name="${name}"`,
        'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment; filename="${name}"`,
        '',
        randomBytes(300).toString('base64'),
        '--s1--',
        '',
      ].join('\r\n'),
    );

  it('keeps S/MIME and PGP signature parts, marked', async () => {
    for (const [protocol, type, name] of [
      ['application/pkcs7-signature', 'application/pkcs7-signature', 'smime.p7s'],
      ['application/x-pkcs7-signature', 'application/x-pkcs7-signature', 'smime.p7s'],
      ['application/pgp-signature', 'application/pgp-signature', 'signature.asc'],
    ]) {
      const message = await parseMessage(signed(protocol!, type!, name!));
      expect(message.text).toBe('Signed hello.');
      expect(message.attachments).toHaveLength(1);
      expect(message.attachments[0]).toMatchObject({ filename: name, contentType: type, signature: true });
      expect(message.problems).toEqual([]);
    }
  });

  it('reports S/MIME and PGP encrypted messages', async () => {
    const smime = Buffer.from(
      'From: a@sender.test\r\nMessage-ID: <e@sender.test>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n' +
        `Content-Disposition: attachment; filename="smime.p7m"\r\n\r\n${randomBytes(200).toString('base64')}\r\n`,
    );
    const pgp = Buffer.from(
      'From: a@sender.test\r\nMessage-ID: <p@sender.test>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e1"\r\n\r\n' +
        '--e1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n' +
        '--e1\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n' +
        '-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA0abc\r\n-----END PGP MESSAGE-----\r\n--e1--\r\n',
    );
    for (const raw of [smime, pgp]) {
      const message = await parseMessage(raw);
      expect(message.problems.filter((p) => p.startsWith('encrypted:'))).toHaveLength(1);
      expect(message.text).toBeNull();
    }
  });
});
