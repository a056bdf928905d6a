/**
 * The attachment policy (README, "Attachment policy"; lib/message/attachment-policy.ts), one test per
 * rule, on messages of the shared corpora (read at test time, never copied here).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../lib/message/index.ts';
import type { ParsedMessage } from '../../lib/message/types.ts';
import { corporaDir } from '../support/corpora.ts';

const dir = corporaDir();

async function parse(path: string): Promise<ParsedMessage> {
  const file = join(dir!, path);
  expect(existsSync(file), file).toBe(true);
  return parseMessage(readFileSync(file));
}

const listed = (m: ParsedMessage) =>
  m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, related: a.related }));

describe.skipIf(!dir)('attachment policy on corpus messages', () => {
  it('lists a named text part that is not the body as an attachment, not as body text', async () => {
    const fable = await parse('stalwart-mail-parser/resources/eml/legacy/042.eml');
    expect(listed(fable)).toEqual([
      { filename: 'farmerandstork.txt', contentType: 'text/plain', related: false },
    ]);
    expect(fable.text).toContain('The Hare and the Tortoise');
    expect(fable.text).not.toMatch(/stork/i);

    // named text parts inside the multipart/related of the HTML body: attachments as well
    const nested = await parse('enmime/testdata/parts/nestedmulti.raw');
    expect(nested.text).toBe('A text section');
    expect(nested.attachments.map((a) => [a.filename, a.contentType, a.disposition])).toEqual([
      ['attach.txt', 'text/plain', 'inline'],
      ['attach2.txt', 'text/plain', 'inline'],
    ]);
  });

  it('keeps an inline image the HTML references by Content-ID as an inline resource (related)', async () => {
    for (const path of [
      'enmime/testdata/mail/html-mime-inline.raw',
      'enmime/testdata/mail/html-only-inline.raw',
      'mimekit/UnitTests/TestData/dkim/related.msg',
    ]) {
      const m = await parse(path);
      expect(m.attachments.length, path).toBe(1);
      expect(m.attachments[0]!.related, path).toBe(true);
      expect(m.html, path).toContain(`cid:${m.attachments[0]!.contentId!.slice(1, -1)}`);
    }
  });

  it('lists inline images nothing references, in multipart/mixed or multipart/related, as attachments', async () => {
    const balls = await parse('stalwart-mail-parser/resources/eml/legacy/030.eml');
    expect(listed(balls).filter((a) => a.contentType === 'image/png')).toEqual([
      { filename: 'blueball.png', contentType: 'image/png', related: false },
      { filename: 'greenball.png', contentType: 'image/png', related: false },
    ]);
    const related = await parse('enmime/testdata/mail/other-multi-related.raw');
    expect(related.attachments.map((a) => [a.filename, a.related])).toEqual([
      ['image001.png', false],
      ['image002.png', false],
    ]);
  });

  it('lists an embedded message as an attachment named after its Subject when it has no filename', async () => {
    const bounce = await parse('cpython-test_email/Lib/test/test_email/data/msg_16.txt');
    expect(listed(bounce)).toEqual([
      { filename: '[scr] yeah for Ians!!.eml', contentType: 'message/rfc822', related: false },
    ]);
    const digest = await parse('cpython-test_email/Lib/test/test_email/data/msg_28.txt');
    expect(digest.attachments.map((a) => a.filename)).toEqual(['ee.eml', 'ee.eml']);
    const noSubject = await parse('cpython-test_email/Lib/test/test_email/data/msg_42.txt');
    expect(noSubject.attachments.map((a) => a.filename)).toEqual(['message.eml']);
    // a declared filename is kept
    const named = await parse(
      'mikel-mail/spec/fixtures/emails/attachment_emails/attachment_message_rfc822_inline_image.eml',
    );
    expect(named.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ['img.png', 'image/png'],
      ['Testmail.eml', 'message/rfc822'],
    ]);
  });

  it('takes text from the text/plain alternative and html from the text/html one', async () => {
    const m = await parse('enmime/testdata/parts/multialtern.raw');
    expect(m.text).toBe('A text section');
    expect(m.html).not.toBeNull();
    expect(m.html).not.toContain('A text section');
    expect(m.attachments).toEqual([]);
  });

  it('joins several unnamed text parts of a multipart/mixed in order, one line break between', async () => {
    const m = await parse('enmime/testdata/parts/multimixed.raw');
    expect(m.text).toBe('Section one\n\nSection two');
    expect(m.attachments).toEqual([]);
  });

  it('gives sizes and hashes of the decoded content', async () => {
    const m = await parse('enmime/testdata/parts/bin-attach.raw');
    expect(m.attachments.map((a) => [a.filename, a.size])).toEqual([['test.bin', 16]]);
    const base = 'james-mime4j/core/src/test/resources/mimetools-testmsgs';
    const nested = await parse(`${base}/multi-nested2.msg`);
    for (const part of ['multi-nested2_decoded_1_3_1.bin', 'multi-nested2_decoded_1_3_2.bin']) {
      const bytes = readFileSync(join(dir!, base, part));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect(nested.attachments.find((a) => a.sha256 === sha256)?.size, part).toBe(bytes.length);
    }
  });
});
