import { describe, expect, it } from 'vitest';
import { safeFilename } from '../../../lib/message/index.ts';

describe('safeFilename', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Windows\\system32\\evil.dll', 'evil.dll'],
    ['.bashrc', 'bashrc'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['a<b>c:d"e|f?g*h.txt', 'a_b_c_d_e_f_g_h.txt'],
    ['invoice\u202eexe.pdf', 'invoiceexe.pdf'],
    ['bell\u0007.txt', 'bell.txt'],
    ['trailing dots...', 'trailing dots'],
    ['', 'attachment'],
    [null, 'attachment'],
    ['../', 'attachment'],
  ])('%j → %j', (input, expected) => {
    expect(safeFilename(input)).toBe(expected);
  });

  it('keeps the extension when cutting to 255 bytes', () => {
    const out = safeFilename(`${'é'.repeat(300)}.pdf`);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(255);
    expect(out.endsWith('.pdf')).toBe(true);
  });
});
