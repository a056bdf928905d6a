import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../lib/message/index.ts';
import { corporaDir } from '../support/corpora.ts';

const dir = corporaDir();
const read = (path: string): Buffer => readFileSync(join(dir!, path));
const FFFD = '\ufffd';

/**
 * Against stalwart-mail-parser's expectations (LF files): the text/plain body and the To display names.
 * Before the charset decision: text 51/62, names 54/74; after: 53/62, 66/74. The remaining misses are expectations of U+FFFD
 * for raw Latin-1 bytes (we decode them, see corpora-parse.test.ts) and non-charset differences.
 */
const STALWART_TEXT_AGREEING = 53;
const STALWART_TO_NAMES_AGREEING = 66;

describe.skipIf(!dir)('corpus: charsets (UTF-7, raw 8-bit headers, mislabelled bodies)', () => {
  it('decodes Outlook UTF-7: encoded-word subject and names, quoted-printable body (stalwart legacy)', async () => {
    for (const name of ['001', '005']) {
      const base = `stalwart-mail-parser/resources/eml/legacy/${name}`;
      const m = await parseMessage(read(`${base}.eml`));
      const expected = JSON.parse(read(`${base}.json`).toString('utf8')) as {
        parts: Array<{ body?: { Text?: string } }>;
      };
      expect(m.subject).toBe('Die Hasen und die Frösche (Microsoft Outlook 00)');
      expect(m.text?.trimEnd()).toBe(expected.parts[0]?.body?.Text?.trimEnd());
      expect(m.to.map((a) => a.name)).toContain(name === '001' ? 'Jürgen Schmürgen' : 'Heinz Müller');
    }
  });

  it('decodes raw UTF-8 headers (mikel-mail rfc6532) and raw Latin-1 ones (mikel-mail, flanker)', async () => {
    const utf8 = await parseMessage(read('mikel-mail/spec/fixtures/emails/rfc6532/utf8_headers.eml'));
    expect(utf8.subject).toBe('Säying Hello');
    expect(utf8.from).toEqual({ address: 'jdöe@mächine.example', name: 'Jöhn Doe' });
    const latin = await parseMessage(
      read('mikel-mail/spec/fixtures/emails/error_emails/invalid_subject_characters.eml'),
    );
    expect(latin.subject).toBe('Formação FrenetikPolis: Mega Campanha Final Verão | Cursos de Setembro');
    const flanker = await parseMessage(read('mailgun-flanker/tests/fixtures/messages/from-encoding.eml'));
    expect(flanker.from?.name).toBe('Ingo Lütkebohle');
    expect(flanker.problems).toContain('charset-fallback: from: declared none, decoded as windows-1252');
  });

  it('decodes raw GB2312 and Big5 headers in the charset the message declares (spamassassin cjk)', async () => {
    const gb = await parseMessage(read('apache-spamassassin/t/data/nice/cjk/gb2312.1'));
    expect(gb.subject).toBe('全新原装进口，送货上门，货到付款－台湾鑫龙商贸集团公司向您拜年!');
    expect(gb.from?.name).toBe('台湾鑫龙商贸集团公司');
    const big5 = await parseMessage(read('apache-spamassassin/t/data/nice/cjk/big5-base64.1'));
    expect(big5.subject).toContain('6月17日新片又到');
    expect(big5.problems).toContain('charset-fallback: subject: declared none, decoded as big5');
  });

  it('decodes a UTF-8 body declared us-ascii and an unknown charset (enmime low-quality)', async () => {
    const m = await parseMessage(read('enmime/testdata/low-quality/incorrect-charset.raw'));
    expect(m.text).toContain('∮ E⋅da = Q,  n → ∞, ∑ f(i) = ∏ g(i)');
    expect(m.text).not.toContain(FFFD);
    expect(m.problems).toContain(
      'charset-fallback: body part 1 (text/plain): declared "us-ascii", decoded as utf-8',
    );
    const unknown = await parseMessage(read('enmime/testdata/low-quality/unk-charset-part.raw'));
    expect(unknown.text).toBe('A text section');
  });

  it('keeps declared Japanese and Korean charsets intact (mikel-mail multi_charset)', async () => {
    const base = 'mikel-mail/spec/fixtures/emails/multi_charset';
    for (const name of readdirSync(join(dir!, base))) {
      const m = await parseMessage(read(`${base}/${name}`));
      expect(`${m.subject} ${m.text}`, name).not.toContain(FFFD);
      expect(
        m.problems.filter((p) => p.startsWith('charset-')),
        name,
      ).toEqual([]);
    }
    const sjis = await parseMessage(read(`${base}/japanese_shift_jis.eml`));
    expect(sjis.text).toContain('このメールはテスト用のメールです。');
  });

  it('agrees with stalwart on text bodies and To names at least as often as recorded', async () => {
    const base = join(dir!, 'stalwart-mail-parser/resources/eml');
    let texts = 0;
    let textOk = 0;
    let names = 0;
    let namesOk = 0;
    for (const group of readdirSync(base).sort()) {
      for (const file of readdirSync(join(base, group)).filter((f) => f.endsWith('.eml'))) {
        const json = join(base, group, file.replace(/\.eml$/, '.json'));
        if (!existsSync(json)) continue;
        const expected = JSON.parse(readFileSync(json, 'utf8')) as StalwartExpected;
        const m = await parseMessage(readFileSync(join(base, group, file)));
        const text = plainTextOf(expected);
        if (text !== null) {
          texts++;
          if (m.text !== null && norm(m.text) === norm(text)) textOk++;
        }
        const to = expected.parts[0]?.headers?.find((h) => h.name === 'to')?.value?.Address?.List;
        if (Array.isArray(to)) {
          names++;
          const want = to.map((a) => a.name ?? '').join('|');
          if (m.to.map((a) => a.name).join('|') === want) namesOk++;
        }
      }
    }
    console.log(`[corpora-charsets] stalwart text ${textOk}/${texts}, To names ${namesOk}/${names}`);
    expect(textOk).toBeGreaterThanOrEqual(STALWART_TEXT_AGREEING);
    expect(namesOk).toBeGreaterThanOrEqual(STALWART_TO_NAMES_AGREEING);
  });
});

interface StalwartExpected {
  text_body?: number[];
  parts: Array<{
    body?: { Text?: string };
    headers?: Array<{
      name: unknown;
      value?: {
        Address?: { List?: Array<{ name?: string }> };
        ContentType?: { c_type?: string; c_subtype?: string };
      };
    }>;
  }>;
}

const norm = (s: string): string => s.replace(/\r\n/g, '\n').trimEnd();

/** The expected text of a message with exactly one text/plain body part, else null. */
function plainTextOf(expected: StalwartExpected): string | null {
  const bodies = expected.text_body ?? [];
  if (bodies.length !== 1) return null;
  const part = expected.parts[bodies[0]!];
  const type = part?.headers?.find((h) => h.name === 'content_type')?.value?.ContentType;
  if (type?.c_type !== 'text' || type.c_subtype !== 'plain') return null;
  return typeof part?.body?.Text === 'string' ? part.body.Text : null;
}
