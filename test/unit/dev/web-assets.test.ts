import { describe, expect, it } from 'vitest';
import { webAssets } from '../../../lib/dev/assets.ts';
import { PAGE_CSP, renderIndexPage } from '../../../lib/dev/index-page.ts';

describe('the dev page assets', () => {
  it('bundles one script and one stylesheet under content-hashed names, gzipped too', async () => {
    const assets = await webAssets();
    expect(assets.script).toMatch(/^app-[0-9a-f]{12}\.js$/);
    expect(assets.style).toMatch(/^app-[0-9a-f]{12}\.css$/);
    const script = assets.files.get(assets.script)!;
    expect(script.type).toBe('text/javascript; charset=utf-8');
    expect(script.gzip.length).toBeLessThan(script.body.length);
    expect(assets.files.get(assets.style)!.body.toString()).toContain('@media(prefers-color-scheme:dark)');
  });

  it('never inserts HTML: no innerHTML, outerHTML, insertAdjacentHTML or document.write in the script', async () => {
    const assets = await webAssets();
    const code = assets.files.get(assets.script)!.body.toString();
    expect(code).toContain('textContent');
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(']) {
      expect(code, sink).not.toContain(sink);
    }
    // State-changing requests carry the header the API demands.
    expect(code).toContain('"X-Mailroom-Request":"1"');
  });

  it('the page names its assets, has no inline script or style, and its CSP allows only this server', async () => {
    const html = renderIndexPage({ script: 'app-0123456789ab.js', style: 'app-0123456789ab.css' });
    expect(html).toContain('<script type="module" src="/assets/app-0123456789ab.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/assets/app-0123456789ab.css">');
    expect(html).not.toMatch(/<script>|<style|style="/);
    expect(PAGE_CSP).toMatch(/^default-src 'self'; img-src 'self' data:; frame-src 'self'; style-src 'self'/);
    expect(PAGE_CSP).not.toContain('unsafe');
  });
});
