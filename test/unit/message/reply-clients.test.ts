import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../lib/message/index.ts';

const lines = (...l: string[]): string => l.join('\n');
const reply = (text: string): string => extractReply(text, null).text;

describe('extractReply: attribution lines in many languages and clients', () => {
  it.each([
    ['Italian', 'Il giorno lun 6 gen 2020 alle ore 09:14 Ann Example <ann@example.com> ha scritto:'],
    ['Portuguese', 'Em seg., 6 de jan. de 2020 às 09:14, Ann Example <ann@example.com> escreveu:'],
    ['Swedish', 'Den mån 6 jan. 2020 kl 09:14 skrev Ann Example <ann@example.com>:'],
    ['Danish', 'Den 6. jan. 2020 kl. 09.14 skrev Ann Example <ann@example.com>:'],
    ['Polish', 'W dniu 6.01.2020 o 09:14, Ann Example <ann@example.com> napisał(a):'],
    ['Polish (Dnia)', 'Dnia 27 grudnia 2016 12:08 Ann Example <ann@example.com> napisał(a):'],
    ['Russian', 'ср, 30 апр. 2025 г. в 15:19, Ann Example <ann@example.com>:'],
    ['Ukrainian', '30 серп. 2016 р. 20:45 "Ann" <ann@example.com> пише:'],
    ['Hungarian', '2013.02.08. 7:31 keltezéssel, "Ann Example" írta:'],
    ['Czech', 'Dne 6. 1. 2020 9:14 napsal(a) Ann Example <ann@example.com>:'],
    ['Japanese', '2020年1月6日(月) 9:14 Ann Example <ann@example.com>:'],
    ['Gmail ISO date', '2017-11-24 16:32 GMT+01:00 Ann Example <ann@example.com>:'],
    ['dotted date', '30.09.2017, 18.30, "Ann - Example" <ann@example.com>:'],
    ['time first', '11:00 AM, November 17, 2021, "Ann Example" <ann@example.com>:'],
    ['Mail.ru', 'Wednesday, 17 November 2021, 3:32 PM +0300 from ann@example.com <ann@example.com>:'],
    ['Thunderbird', 'On 06/01/2020 09:14, Ann Example wrote:'],
    ['Zoho', '---- On Mon, 06 Jan 2020 09:14:36 +0100 Ann Example <ann@example.com> wrote ----'],
    ['Yahoo', '--- On Mon, 1/6/20, Ann Example <ann@example.com> wrote:'],
    ['no colon', 'On Wed, 14 Nov 2018 08:14:43 -0200 Ann Example <ann@example.com> wrote'],
  ])('cuts at a %s attribution', (_client, attribution) => {
    const text = lines('Thanks, that works.', '', attribution, '', '> Original text', '> more');
    expect(reply(text)).toBe('Thanks, that works.');
  });

  it.each([
    ['Gmail, address wrapped', ['On Mon, Jan 6, 2020 at 9:14 AM Ann Example <', 'ann@example.com> wrote:']],
    ['Apple, three lines', ['On Nov 21, 2014,', 'at 10:18,', 'Ann Example <ann@example.com> wrote:']],
    ['GitHub style', ['On Dec 16, 2011, at 12:47 PM, Corey Donohoe', '<reply@reply.github.com>', 'wrote:']],
    ['German Gmail', ['Ann Example <ann@example.com> schrieb am Fr., 28.', 'Apr. 2017 um 11:53 Uhr:']],
    ['Finnish', ['pe 20. lokakuuta 2017 klo 17.50 Ann Example', '<ann@example.com> kirjoitti:']],
    ['Norwegian', ['tir. 18. apr. 2017 kl. 13:09 skrev Ann Example <ann@example.com', '>:']],
    [
      'with blank lines',
      ['On Thu, 31 Mar 2016 at 11:16 Ann', '', '<', 'mailto:Ann <ann@example.com>', '> wrote:'],
    ],
  ])('cuts at a wrapped attribution (%s)', (_client, attribution) => {
    const text = lines('Thanks, that works.', '', ...attribution, '', '> Original text');
    expect(reply(text)).toBe('Thanks, that works.');
  });

  it('cuts at an attribution followed by unquoted history', () => {
    const text = lines(
      'This is the 3rd email.',
      '',
      'On Mon, Feb 1, 2016 at 4:58 AM -0800, "Ann" <ann@example.com> wrote:',
      '',
      'This is the 2nd email.',
    );
    expect(reply(text)).toBe('This is the 3rd email.');
  });

  it('cuts at a Gmail date line without colon', () => {
    expect(reply(lines('Before', '', '2016-03-03 17:21 GMT+01:00 Ann Example', '', 'After'))).toBe('Before');
    expect(reply(lines('Before', '', '2013/7/20 Ann <ann@example.com>', '', '| quoted'))).toBe('Before');
  });
});

describe('extractReply: separators and header blocks', () => {
  it.each([
    [
      'German',
      [
        'Von: Ann Example <ann@example.com>',
        'Gesendet: Montag, 6. Januar 2020 09:14',
        'An: Bob',
        'Betreff: Aufgabe',
      ],
    ],
    [
      'French',
      [
        'De : Ann Example <ann@example.com>',
        'Envoyé : lundi 6 janvier 2020 09:14',
        'À : Bob',
        'Objet : Tâche',
      ],
    ],
    [
      'Spanish',
      [
        'De: Ann Example <ann@example.com>',
        'Enviado el: lunes, 6 de enero de 2020 9:14',
        'Para: Bob',
        'Asunto: Tarea',
      ],
    ],
    [
      'Dutch',
      [
        'Van: Ann Example <ann@example.com>',
        'Verzonden: maandag 6 januari 2020 09:14',
        'Aan: Bob',
        'Onderwerp: Taak',
      ],
    ],
    [
      'Swedish',
      [
        'Från: Ann Example <ann@example.com>',
        'Skickat: den 6 januari 2020 09:14',
        'Till: Bob',
        'Ämne: Uppgift',
      ],
    ],
    [
      'Polish',
      [
        'Od: Ann Example <ann@example.com>',
        'Wysłano: poniedziałek, 6 stycznia 2020 09:14',
        'Do: Bob',
        'Temat: Zadanie',
      ],
    ],
    [
      'Outlook web (bold)',
      [
        '*From:* Ann Example <ann@example.com>',
        '*Sent:* Monday, January 6, 2020 9:14 AM',
        '*To:* Bob',
        '*Subject:* Task',
      ],
    ],
    [
      'Yahoo (French, indented)',
      [
        '      De : Ann Example <ann@example.com>',
        ' À : Bob <bob@example.com>',
        ' Envoyé le : Lundi 6 janvier 2020 9h14',
        ' Objet : Re: Tâche',
      ],
    ],
  ])('cuts at a %s header block', (_language, header) => {
    const text = lines('Done.', '', ...header, '', 'Can you do the task?');
    expect(reply(text)).toBe('Done.');
  });

  it.each([
    '-----Original Message-----',
    '----- Mensaje original -----',
    '-----Ursprüngliche Nachricht-----',
    '-------- Oprindelig besked --------',
    "-------- Message d'origine --------",
    '---------- Forwarded message ---------',
    'Begin forwarded message:',
  ])('cuts at "%s"', (separator) => {
    const text = lines('See below.', '', separator, 'From: Ann <ann@example.com>', 'Subject: Hi', '', 'Body');
    expect(reply(text)).toBe('See below.');
  });

  it('cuts at a French webmail block after "===="', () => {
    const text = lines(
      'Merci.',
      '',
      '====',
      '',
      'Message du : 12/12/2016 13:20',
      'De : "Ann" <ann@example.com>',
      'A : bob@example.com',
      'Copie à : ',
      'Sujet :  Question',
      '',
      'Original',
    );
    expect(reply(text)).toBe('Merci.');
  });

  it('returns the forwarded text (without its headers) when nothing was written above it', () => {
    const text = lines(
      '---------- Forwarded message ----------',
      'From: Ann <ann@example.com>',
      'Date: Thu, Jan 28, 2016 at 4:00 PM',
      'Subject: A subject that',
      'spans over 2 lines',
      'To: bob@example.com',
      '',
      '',
      'The forwarded text.',
    );
    expect(reply(text)).toBe('The forwarded text.');
  });

  it('leaves "From:" and "To:" lines in the text alone when they are not a header block', () => {
    const text = lines('Trip plan:', 'From: Berlin', 'To: Paris', 'Via: Brussels', '', 'Thoughts?');
    expect(reply(text)).toBe(text);
  });
});

describe('extractReply: mobile and client boilerplate', () => {
  it.each([
    'Sent from my iPhone',
    'Sent from my Samsung Galaxy smartphone.',
    'Sent from my HTC M8 Android phone.  Please excuse typos',
    'Get Outlook for iOS<https://aka.ms/o0ukef>',
    'Get [Outlook for Android](https://aka.ms/ghei36)',
    'Envoyé de mon iPhone',
    'Envoyé à partir de Outlook pour iOS<https://aka.ms/o0ukef>',
    'Von meinem iPhone gesendet',
    'Gesendet von Outlook für Android<https://aka.ms/AAb9ysg>',
    'Enviado desde mi iPhone',
    'Verzonden met BlackBerry Work',
    'Inviato da iPhone',
    'Sent from Yahoo Mail on Android',
  ])('drops "%s" and what follows it', (boilerplate) => {
    const text = lines('Yes.', '', boilerplate, '', 'The unquoted original message.');
    expect(reply(text)).toBe('Yes.');
  });

  it('keeps sentences that merely mention sending from a phone', () => {
    const text = lines(
      'The notification was sent from my iPhone app to all users.',
      '',
      'Sent from my desk, is much easier then my mobile phone.',
    );
    expect(reply(text)).toBe(text);
  });
});

describe('extractReply: signatures', () => {
  it('splits a bare "--" delimiter', () => {
    expect(extractReply(lines('Body.', '--', 'rick'), null)).toMatchObject({
      text: 'Body.',
      signature: 'rick',
    });
  });

  it('splits a rule line followed by contact details', () => {
    const text = lines(
      'Thanks for the update!',
      '',
      '—————',
      'Sarah Johnson',
      'Product Manager',
      'sarah@example.com',
    );
    expect(extractReply(text, null)).toMatchObject({
      text: 'Thanks for the update!',
      signature: 'Sarah Johnson\nProduct Manager\nsarah@example.com',
    });
  });

  it('splits a trailing name-and-contact block', () => {
    const text = lines(
      'Let me know.',
      '',
      'Gina Example',
      'gina@example.com',
      '(555) 346-9947',
      'www.example.com',
    );
    expect(extractReply(text, null)).toMatchObject({
      text: 'Let me know.',
      signature: 'Gina Example\ngina@example.com\n(555) 346-9947\nwww.example.com',
    });
  });

  it('keeps closings, names and markdown rules (prefers keeping a line when unsure)', () => {
    const text = lines(
      'Here is my analysis:',
      '',
      '----',
      '',
      '1. Faster',
      '',
      '====',
      '',
      'Also these equal signs are just separators.',
      '',
      'Regards,',
      'John',
    );
    expect(extractReply(text, null)).toEqual({ text, signature: null, problems: [] });
  });

  it('keeps a lone em dash before a name', () => {
    const text = lines('🎉', '', '—', 'John Doe', 'CEO at Pandaland');
    expect(reply(text)).toBe(text);
  });
});

describe('extractReply: inline and bottom-posted answers', () => {
  it('keeps a quote the sender answered below, without its attribution', () => {
    const text = lines(
      'A line before.',
      'On Tue, 2011-03-01 at 18:02 +0530, Ann Example wrote:',
      '> Hello',
      '>',
      '> The question.',
      '',
      'The answer.',
      '',
      'JD> an older quote',
    );
    expect(reply(text)).toBe('A line before.\n> Hello\n>\n> The question.\n\nThe answer.');
  });

  it('drops the attribution and quote above a bottom-posted answer', () => {
    const text = lines(
      'On Mon, Aug 19, 2013 at 2:36 AM, Ann Example <ann@example.com> wrote:',
      '',
      '> The question.',
      '>',
      '',
      'The answer.',
      '> Another point?',
      '',
      'Another answer.',
    );
    expect(reply(text)).toBe('The answer.\n> Another point?\n\nAnother answer.');
  });

  it('keeps a weak "X wrote:" line that introduces an inline quote', () => {
    const text = lines(
      'Look at this.',
      '',
      'Here is what the manager wrote:',
      '> ship it',
      '',
      'I disagree.',
    );
    expect(reply(text)).toBe(text);
  });

  it('does not take sentences starting with "On" for attributions', () => {
    const text = lines(
      'On the surface, this looks like a quote header but it is not.',
      '',
      'On Thursday.',
      '',
      '> On May 17, 2017, at 01:42 PM, Ann <ann@example.com> wrote:',
      '> When will you fix this?',
    );
    expect(reply(text)).toBe('On the surface, this looks like a quote header but it is not.\n\nOn Thursday.');
  });

  it('keeps timestamps and URLs containing "wrote" in the text', () => {
    const text = lines(
      'Formats:',
      '2024-01-15 14:30:25',
      '15.01.2024 14:30',
      'See https://example.com/on-date-someone-wrote-about-parsing',
    );
    expect(reply(text)).toBe(text);
  });
});

describe('extractReply: fallback', () => {
  it('returns empty text with a problem when the message is only quoted attribution lines', () => {
    const text = lines(
      '> On Thu, Apr 30, 2020 at 10:07 AM, "someone" <someone@example.com> wrote:',
      '>',
      '>> On Thu, Apr 30, 2020 at 10:06 AM, "someone" <someone@example.com> wrote:',
    );
    const result = extractReply(text, null);
    expect(result.text).toBe('');
    expect(result.problems[0]).toMatch(/^reply-fallback: /);
  });

  it('keeps the full text when only an attribution and its quote were sent', () => {
    const text = lines('On Mon, 6 Jan 2020, Ann <ann@example.com> wrote:', '> Only the quote');
    const result = extractReply(text, null);
    expect(result.text).toBe(text);
    expect(result.problems[0]).toMatch(/^reply-fallback: /);
  });
});

describe('extractReply: HTML from common clients', () => {
  it('cuts at an Outlook desktop header block', () => {
    const html =
      '<div class=WordSection1><p class=MsoNormal>Thanks, will do.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>' +
      "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in'><p class=MsoNormal>" +
      '<b>From:</b> Ann Example &lt;ann@example.com&gt; <br><b>Sent:</b> Monday, January 6, 2020 9:14 AM<br>' +
      '<b>To:</b> Bob &lt;bob@example.com&gt;<br><b>Subject:</b> Task<o:p></o:p></p></div></div>' +
      '<p class=MsoNormal>Can you do the task?</p></div>';
    expect(extractReply(null, html).text).toBe('Thanks, will do.');
  });

  it('strips an Apple Mail blockquote that holds its own attribution', () => {
    const html =
      '<div>Sounds good.</div><div><br><blockquote type="cite"><div>On Jan 6, 2020, at 09:14, Ann &lt;ann@example.com&gt; wrote:</div>' +
      '<br><div><div>Lunch?</div></div></blockquote></div>';
    expect(extractReply(null, html).text).toBe('Sounds good.');
  });

  it('cuts at Thunderbird, Yahoo and ProtonMail quote containers', () => {
    for (const container of [
      '<div class="moz-cite-prefix">On 06/01/2020 09:14, Ann wrote:<br></div><blockquote type="cite">Lunch?</blockquote>',
      '<div class="yahoo_quoted"><div>On Monday, January 6, 2020, 09:14, Ann wrote:</div><div>Lunch?</div></div>',
      '<div class="protonmail_quote">------- Original Message -------<br>Lunch?</div>',
    ]) {
      expect(extractReply(null, `<div>Yes!</div>${container}`).text).toBe('Yes!');
    }
  });

  it('drops "Get Outlook for iOS" above an Outlook quote', () => {
    const html =
      '<div>On my way.</div><div><br></div><div>Get <a href="https://aka.ms/o0ukef">Outlook for iOS</a></div>' +
      '<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg"><b>From:</b> Ann<br><b>Sent:</b> Monday</div><div>Where are you?</div>';
    expect(extractReply(null, html).text).toBe('On my way.');
  });

  it('returns a forwarded message body when nothing was written above the Gmail forward', () => {
    const html =
      '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: ' +
      'Ann &lt;ann@example.com&gt;<br>Date: Mon, Jan 6, 2020 at 9:14 AM<br>Subject: Hi<br>To: bob@example.com<br></div>' +
      '<br><br><div dir="ltr">The forwarded text.</div></div>';
    expect(extractReply(null, html).text).toBe('The forwarded text.');
  });
});

describe('extractReply: hostile input', () => {
  it.each([
    ['one huge line', `On ${'x '.repeat(400_000)}wrote:`],
    ['many attribution-like lines', 'On 1 Jan 2020 at 10:00 Ann\n'.repeat(40_000)],
    ['many signature delimiters', '-- \nline\n'.repeat(100_000)],
    ['a long run of spaces', `a${' '.repeat(1_000_000)}b`],
    ['many addresses before a colon', `${'@'.repeat(500)} x:\n`.repeat(2000)],
    ['nested blockquotes', null],
  ])('stays fast on %s', (_name, text) => {
    const html = `${'<blockquote>'.repeat(20_000)}x${'</blockquote>'.repeat(20_000)}`;
    const started = performance.now();
    const result = text === null ? extractReply(null, html) : extractReply(text, null);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(typeof result.text).toBe('string');
  });
});
