import { describe, expect, it } from 'vitest';
import { replySubject } from '../../../lib/outbound/reply-subject.ts';

describe('replySubject', () => {
  it('adds Re: to a subject that is not a reply yet', () => {
    expect(replySubject('Printer on fire')).toBe('Re: Printer on fire');
    expect(replySubject('Fwd: Printer on fire')).toBe('Re: Fwd: Printer on fire');
    expect(replySubject('WG: Angebot')).toBe('Re: WG: Angebot');
    expect(replySubject('Regarding invoices')).toBe('Re: Regarding invoices');
    expect(replySubject('Response times')).toBe('Re: Response times');
  });

  it('keeps a subject that already carries a reply prefix, in any common language', () => {
    for (const s of [
      'Re: Hello',
      'RE: Hello',
      're:Hello',
      'AW: Angebot',
      'SV: Tilbud',
      'VS: Tarjous',
      'Antw: Offerte',
      'Odp: Oferta',
      'R: Offerta',
      'RIF: Offerta',
      'Res: Proposta',
      'YNT: Teklif',
      'RE[2]: Hello',
      'Re(3): Hello',
      'Re : Bonjour',
      '回复：你好',
      'ΑΠ: Γεια',
    ]) {
      expect(replySubject(s)).toBe(s);
    }
  });

  it('handles an empty or missing subject', () => {
    expect(replySubject(null)).toBe('Re:');
    expect(replySubject('   ')).toBe('Re:');
  });

  it('never lets control characters through and bounds the length', () => {
    expect(replySubject('Hi\r\nBcc: victim@example.net')).toBe('Re: Hi Bcc: victim@example.net');
    expect(replySubject('x'.repeat(5000)).length).toBe(904);
  });
});
