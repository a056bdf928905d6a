import { describe, expect, it } from 'vitest';
import { parseBody } from '../../../lib/message/body-parse.ts';
import { htmlToText } from '../../../lib/message/html-to-text.ts';

const options = { maxHeadSize: 1024 * 1024, maxChildNodes: 1000, budgetMs: 5000 };

describe('parseBody', () => {
  it('returns what was collected when the time budget runs out', async () => {
    const raw = Buffer.from(`From: a@example.com\r\n\r\n${'line\r\n'.repeat(50_000)}`);
    const result = await parseBody([raw], { ...options, budgetMs: 0 });
    expect(result.timedOut).toBe(true);
    expect(result.text).toBeNull();
  });

  it('reports a mailparser error instead of rejecting', async () => {
    const raw = Buffer.from(`From: a@example.com\r\nX-Big: ${'x'.repeat(5000)}\r\n\r\nbody`);
    const result = await parseBody([raw], { ...options, maxHeadSize: 100 });
    expect(result.error).toMatch(/header size/i);
    expect(result.timedOut).toBe(false);
  });

  it('does not hang on an empty inline message/rfc822 part', async () => {
    const raw = Buffer.from(
      'Content-Type: multipart/mixed; boundary="a"\r\n\r\n--a\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n--a--',
    );
    const result = await parseBody([raw], options);
    expect(result.timedOut).toBe(false);
    expect(result.attachments.map((a) => a.contentType)).toEqual(['message/rfc822']);
  });
});

describe('htmlToText', () => {
  it('renders blocks, line breaks, lists and entities', () => {
    expect(htmlToText('<p>One&nbsp;two</p><div>three<br>four</div><ul><li>a</li><li>b</li></ul>')).toBe(
      'One two\n\nthree\nfour\na\nb',
    );
  });

  it('drops scripts, styles and comments, keeps image alt text', () => {
    expect(
      htmlToText('<style>x{}</style><script>alert(1)</script><!-- c -->Hi <img alt="logo" src="x">'),
    ).toBe('Hi logo');
  });

  it('keeps preformatted whitespace and quotes blockquotes', () => {
    expect(htmlToText('<pre>a  b\n  c</pre><blockquote>q<blockquote>qq</blockquote></blockquote>')).toBe(
      'a  b\n  c\n> q\n> > qq',
    );
  });

  it('treats a stray < as text', () => {
    expect(htmlToText('1 < 2 and 3 > 2')).toBe('1 < 2 and 3 > 2');
  });
});
