import { describe, expect, it } from 'vitest';
import { rewriteCidReferences } from '../../../lib/dev/routes/message-html.ts';
import type { Attachment } from '../../../lib/message/index.ts';

const part = (contentId: string | null): Attachment => ({
  filename: 'x.png',
  contentType: 'image/png',
  size: 1,
  sha256: '0'.repeat(64),
  contentId,
  disposition: 'inline',
  url: null,
  stored: true,
  related: true,
});
const attachments = [part(null), part('<logo@mail.test>'), part('<Photo%201@mail.test>')];
const base = '/api/messages/abc/attachments';

describe('rewriteCidReferences', () => {
  it('points cid: references at the attachment with that Content-ID, by its index', () => {
    const html =
      '<img src="cid:logo@mail.test"><img src=\'CID:logo@mail.test\'><div style="background:url(cid:logo@mail.test)">';
    expect(rewriteCidReferences(html, attachments, base)).toBe(
      `<img src="${base}/1"><img src='${base}/1'><div style="background:url(${base}/1)">`,
    );
  });

  it('matches URL-encoded Content-IDs and leaves unknown ones alone', () => {
    const html = '<img src="cid:Photo%25201@mail.test"><img src="cid:other@mail.test"><p>cid:</p>';
    expect(rewriteCidReferences(html, attachments, base)).toBe(
      `<img src="${base}/2"><img src="cid:other@mail.test"><p>cid:</p>`,
    );
  });

  it('returns the HTML unchanged when no part has a Content-ID', () => {
    expect(rewriteCidReferences('<img src="cid:logo@mail.test">', [part(null)], base)).toBe(
      '<img src="cid:logo@mail.test">',
    );
  });

  it('takes a 5 MB hostile HTML in one pass', () => {
    const hostile = [
      'cid:'.repeat(500_000),
      `cid:${'a'.repeat(2_000_000)}`,
      '<img src="cid:logo@mail.test">',
      `${'cid:logo@mail.test'.repeat(100_000)}`,
    ].join('');
    expect(hostile.length).toBeGreaterThan(4_900_000);
    const out = rewriteCidReferences(hostile, attachments, base);
    expect(out.startsWith('cid:'.repeat(1000))).toBe(true);
    expect(out).toContain(`<img src="${base}/1">`);
    expect(out.length).toBeLessThan(hostile.length * 2);
  });
});
