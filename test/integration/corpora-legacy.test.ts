import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractAttachment, type ParsedMessage, parseMessage } from '../../lib/message/index.ts';
import { corporaDir } from '../support/corpora.ts';

const dir = corporaDir();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const PNG = '89504e47';
/** Stalwart's Hunny Software samples: the same three balls in BinHex, x-uuencode and inline uuencode. */
const stalwart = (name: string) => join(dir ?? '', 'stalwart-mail-parser/resources/eml/legacy', name);
const mimetools = (name: string) =>
  join(dir ?? '', 'james-mime4j/core/src/test/resources/mimetools-testmsgs', name);

async function parse(path: string): Promise<ParsedMessage> {
  return parseMessage(readFileSync(path));
}
const decoded = (m: ParsedMessage) => m.attachments.filter((a) => a.source);

describe.skipIf(!dir)('legacy attachment encodings in the corpora', () => {
  it('BinHex parts (stalwart legacy/016): data forks decoded, CRCs good', async () => {
    const m = await parse(stalwart('016.eml'));
    // Their raw 8-bit To/Subject are the charset decision's to report; no decoder problem here.
    expect(m.problems.filter((p) => !p.startsWith('charset-fallback:'))).toEqual([]);
    expect(m.attachments.filter((a) => a.container).map((a) => a.contentType)).toEqual([
      'application/mac-binhex40',
      'application/mac-binhex40',
    ]);
    expect(decoded(m).map((a) => [a.filename, a.contentType, a.source])).toEqual([
      ['blueball.png', 'image/png', { part: 0, encoding: 'binhex' }],
      ['HasenundFrösche.txt', 'text/plain', { part: 1, encoding: 'binhex' }],
    ]);
  });

  it('the same file in BinHex, x-uuencode and inline uuencode decodes to the same bytes', async () => {
    const binhex = decoded(await parse(stalwart('016.eml'))).find((a) => a.filename === 'blueball.png')!;
    const xuu = decoded(await parse(stalwart('017.eml'))).find((a) => a.filename === 'blueball.png')!;
    const inline = decoded(await parse(stalwart('049.eml'))).find((a) => a.filename === 'blueball.png')!;
    expect(binhex.size).toBe(1325);
    expect([xuu.sha256, inline.sha256]).toEqual([binhex.sha256, binhex.sha256]);
    expect(xuu.source).toEqual({ part: 1, encoding: 'uuencode' });
    expect(inline.source).toEqual({ part: 'text', encoding: 'uuencode' });
  });

  it('x-uuencode parts (stalwart legacy/017, 026, 048) decode without problems', async () => {
    for (const [name, files] of [
      ['017.eml', ['greenball.png', 'blueball.png']],
      ['026.eml', ['HasenundFrösche.txt']],
      ['048.eml', ['redball.png', 'greenball.png', 'blueball.png']],
    ] as const) {
      const m = await parse(stalwart(name));
      // Their raw 8-bit To/Subject are the charset decision's to report; no decoder problem here.
      expect(m.problems.filter((p) => !p.startsWith('charset-fallback:'))).toEqual([]);
      expect(decoded(m).map((a) => a.filename)).toEqual(files);
    }
    const text = decoded(await parse(stalwart('026.eml')))[0]!;
    expect(text.contentType).toBe('text/plain');
    const m048 = await parse(stalwart('048.eml'));
    for (const a of decoded(m048)) expect(a.contentType).toBe('image/png');
  });

  it('inline uuencode (stalwart legacy/049) leaves the text and keeps the fable', async () => {
    const m = await parse(stalwart('049.eml'));
    expect(decoded(m).map((a) => [a.filename, a.size])).toEqual([
      ['blueball.png', 1325],
      ['greenball.png', 1298],
      ['redball.png', 1453],
    ]);
    expect(m.text).toContain('The Hare and the Tortoise');
    expect(m.text).not.toMatch(/^begin 6/m);
    expect(m.text).not.toMatch(/^end$/m);
  });

  it('matches MIME-tools: uu-junk decodes to the bytes of uu-junk-target (its MIME twin, decoded by mime4j)', async () => {
    const expected = ['uu-junk-target_decoded_1_2_2.bin', 'uu-junk-target_decoded_1_2_3.bin'].map((f) =>
      sha256(readFileSync(mimetools(f))),
    );
    for (const name of ['uu-junk.msg', 'uu-zeegee.msg']) {
      const m = await parse(mimetools(name));
      expect(decoded(m).map((a) => [a.filename, a.contentType, a.sha256])).toEqual([
        ['up.gif', 'image/gif', expected[0]],
        ['zeegee.gif', 'image/gif', expected[1]],
      ]);
      expect(m.problems.filter((p) => p.startsWith('uuencode'))).toEqual([]);
    }
    const zeegee = await parse(mimetools('uu-zeegee.msg'));
    expect(zeegee.text?.trim()).toBe("I've uuencoded the ZeeGee logo and another GIF file below.");
  });

  it('sig-uu: a named block and a block without a name', async () => {
    const m = await parse(mimetools('sig-uu.msg'));
    expect(decoded(m).map((a) => a.filename)).toEqual(['.signature', null]);
    expect(decoded(m)[1]!.contentType).toBe('application/octet-stream');
    expect(m.text).toContain('my .sig file:');
    expect(m.text).not.toContain('begin 644');
  });

  it('an empty x-uuencode part (mikel-mail) is a problem, not a crash', async () => {
    const m = await parse(
      join(
        dir ?? '',
        'mikel-mail/spec/fixtures/emails/error_emails/content_transfer_encoding_x_uuencode.eml',
      ),
    );
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ filename: 'PGP_Cmts_on_12-14-01_Pkg.doc', container: true });
    expect(m.problems).toContain(
      'uuencode-invalid: attachment 0 is declared uuencoded but has no "begin" line',
    );
  });

  it('signature parts are kept and marked (S/MIME and PGP, five corpora)', async () => {
    for (const [path, name] of [
      ['mailgun-flanker/tests/fixtures/messages/signed.eml', 'smime.p7s'],
      ['mikel-mail/spec/fixtures/emails/mime_emails/raw_email2.eml', 'smime.p7s'],
      ['mikel-mail/spec/fixtures/emails/mime_emails/raw_email7.eml', 'smime.p7s'],
      ['mikel-mail/spec/fixtures/emails/mime_emails/sig_only_email.eml', 'signature.asc'],
      ['enmime/testdata/mail/mime-signed.raw', 'signature.asc'],
      ['cpython-test_email/Lib/test/test_email/data/msg_45.txt', 'signature.asc'],
    ]) {
      const m = await parse(join(dir ?? '', path!));
      const signatures = m.attachments.filter((a) => a.signature);
      expect(signatures.map((a) => a.filename)).toEqual([name]);
      expect(m.attachments.filter((a) => !a.signature).every((a) => a.signature === undefined)).toBe(true);
    }
  });

  it('decoded PNGs, extracted again by index, start with the PNG signature and hash to sha256', async () => {
    for (const name of ['016.eml', '017.eml', '048.eml', '049.eml']) {
      const raw = readFileSync(stalwart(name));
      const m = await parseMessage(raw);
      const pngs = m.attachments
        .map((a, n) => ({ a, n }))
        .filter(({ a }) => a.source && a.contentType === 'image/png');
      expect(pngs.length).toBeGreaterThan(0);
      for (const { a, n } of pngs) {
        const chunks: Buffer[] = [];
        for await (const chunk of extractAttachment(raw, n)) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        expect(bytes.subarray(0, 4).toString('hex')).toBe(PNG);
        expect(sha256(bytes)).toBe(a.sha256);
      }
    }
  });
});
