import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../lib/message/index.ts';

const lines = (...l: string[]): string => l.join('\n');

describe('extractReply: plain text', () => {
  it('strips a Gmail attribution and the quote below it, even when the attribution wraps', () => {
    const text = lines(
      'Sounds good, see you then.',
      '',
      'On Mon, Jan 6, 2020 at 9:14 AM Ann Example <',
      'ann@example.com> wrote:',
      '',
      '> Lunch on Friday?',
      '>',
      '> Ann',
    );
    expect(extractReply(text, null)).toEqual({
      text: 'Sounds good, see you then.',
      signature: null,
      problems: [],
    });
  });

  it('strips an Apple Mail attribution and "Sent from my iPhone"', () => {
    const text = lines(
      'Yes, works for me.',
      '',
      'Sent from my iPhone',
      '',
      'On Jan 6, 2020, at 09:14, Ann Example <ann@example.com> wrote:',
      '',
      '> Lunch on Friday?',
    );
    expect(extractReply(text, null).text).toBe('Yes, works for me.');
  });

  it('strips an Outlook "-----Original Message-----" block', () => {
    const text = lines(
      'Approved.',
      '',
      '-----Original Message-----',
      'From: Ann Example [mailto:ann@example.com]',
      'Sent: Monday, January 6, 2020 9:14 AM',
      'To: Bob <bob@example.com>',
      'Subject: Budget',
      '',
      'Please approve the budget.',
    );
    expect(extractReply(text, null).text).toBe('Approved.');
  });

  it('strips an Outlook From:/Sent: header block after an underscore separator', () => {
    const text = lines(
      'Thanks, done.',
      '',
      '________________________________',
      'From: Ann Example <ann@example.com>',
      'Sent: Monday, January 6, 2020 9:14 AM',
      'To: Bob <bob@example.com>',
      'Subject: Task',
      '',
      'Can you do the task?',
    );
    expect(extractReply(text, null).text).toBe('Thanks, done.');
  });

  it('strips an Outlook From:/Sent: header block without a separator', () => {
    const text = lines(
      'Will do.',
      '',
      'From: Ann Example <ann@example.com>',
      'Sent: Monday, January 6, 2020 9:14 AM',
      'To: Bob <bob@example.com>',
      'Subject: Task',
      '',
      'Can you do the task?',
    );
    expect(extractReply(text, null).text).toBe('Will do.');
  });

  it.each([
    ['German', 'Am 06.01.2020 um 09:14 schrieb Ann Example <ann@example.com>:'],
    ['French', 'Le lun. 6 janv. 2020 à 09:14, Ann Example <ann@example.com> a écrit :'],
    ['Spanish', 'El lun., 6 ene. 2020 a las 09:14, Ann Example (<ann@example.com>) escribió:'],
    ['Dutch', 'Op ma 6 jan. 2020 om 09:14 schreef Ann Example <ann@example.com>:'],
  ])('strips a %s attribution', (_language, attribution) => {
    const text = lines('Danke / merci / gracias / bedankt', '', attribution, '', '> Original');
    expect(extractReply(text, null).text).toBe('Danke / merci / gracias / bedankt');
  });

  it('splits off a signature after "-- "', () => {
    const text = lines('See you there.', '', '-- ', 'Bob Example', 'Example Corp', '', '> quoted');
    expect(extractReply(text, null)).toEqual({
      text: 'See you there.',
      signature: 'Bob Example\nExample Corp',
      problems: [],
    });
  });

  it('keeps a reply written below the quote (bottom-posting)', () => {
    const text = lines('On 04/02/2012 06:26 PM, Ann Example wrote:', '> Hi', 'Hello back');
    expect(extractReply(text, null).text).toBe('Hello back');
  });

  it('keeps quotes in the middle (inline answers) and drops only the trailing ones', () => {
    const text = lines(
      '> Question one?',
      'Answer one.',
      '',
      '> Question two?',
      'Answer two.',
      '',
      '> Rest of the mail',
    );
    expect(extractReply(text, null).text).toBe(
      '> Question one?\nAnswer one.\n\n> Question two?\nAnswer two.',
    );
  });

  it('falls back to the full text when nothing new is left, with a problem', () => {
    const text = lines('> only a quote', '> nothing else');
    const reply = extractReply(text, null);
    expect(reply.text).toBe('> only a quote\n> nothing else');
    expect(reply.problems).toHaveLength(1);
    expect(reply.problems[0]).toMatch(/^reply-fallback: /);
  });

  it('returns empty text for an empty message without a problem', () => {
    expect(extractReply(null, null)).toEqual({ text: '', signature: null, problems: [] });
    expect(extractReply('  \n ', null)).toEqual({ text: '', signature: null, problems: [] });
  });

  it('handles CRLF line endings', () => {
    expect(extractReply('Fine.\r\n\r\nOn Mon, Ann wrote:\r\n> q\r\n', null).text).toBe('Fine.');
  });
});

describe('extractReply: HTML', () => {
  it('uses the HTML when there is no text, cutting at the Gmail quote container', () => {
    const html =
      '<div dir="ltr">Works for me.<br><br>Bob</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">' +
      'On Mon, Jan 6, 2020 at 9:14 AM Ann &lt;<a href="mailto:ann@example.com">ann@example.com</a>&gt; wrote:<br></div>' +
      '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">Lunch on Friday?</blockquote></div>';
    expect(extractReply(null, html)).toEqual({ text: 'Works for me.\n\nBob', signature: null, problems: [] });
  });

  it('cuts at an Outlook divRplyFwdMsg block and decodes entities', () => {
    const html =
      '<html><head><style>p{color:red}</style></head><body><p>Caf&eacute; at 10 &amp; lunch at 1?</p>' +
      '<hr><div id="divRplyFwdMsg"><b>From:</b> Ann<br><b>Sent:</b> Monday<br><b>To:</b> Bob</div><div>Original</div></body></html>';
    expect(extractReply(null, html).text).toBe('Café at 10 & lunch at 1?');
  });

  it('turns blockquotes into > lines and strips them when trailing', () => {
    const html =
      '<p>Agreed.</p><p>On Mon, Ann wrote:</p><blockquote type="cite"><p>Ship it?</p></blockquote>';
    expect(extractReply(null, html).text).toBe('Agreed.');
  });

  it('prefers the text part when both exist', () => {
    expect(extractReply('From text', '<p>From html</p>').text).toBe('From text');
  });
});
