import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authenticationResultsHeader, dmarcRejects, mapSesVerdicts } from '../../../lib/auth/index.ts';
import { corporaDir } from '../../support/corpora.ts';

const corpora = corporaDir();
const SES_EVENTS = corpora ? join(corpora, 'aws-ses-events') : null;

describe('mapSesVerdicts', () => {
  it('maps an all-PASS receipt', () => {
    const v = mapSesVerdicts(
      {
        spfVerdict: { status: 'PASS' },
        dkimVerdict: { status: 'PASS' },
        dmarcVerdict: { status: 'PASS' },
        dmarcPolicy: 'reject',
        spamVerdict: { status: 'PASS' },
        virusVerdict: { status: 'PASS' },
      },
      { source: 'Ada@Example.COM', commonHeaders: { from: ['Ada Lovelace <ada@Example.com>'] } },
    );
    expect(v).toEqual({
      source: 'ses',
      spf: {
        result: 'pass',
        scope: 'mailfrom',
        domain: 'example.com',
        mailFrom: 'Ada@Example.COM',
        helo: null,
        clientIp: null,
      },
      dkim: [{ result: 'pass', domain: null, selector: null, aligned: null }],
      dmarc: {
        result: 'pass',
        domain: 'example.com',
        policy: 'reject',
        alignment: { spf: null, dkim: null },
      },
      arc: null,
      spam: { verdict: 'pass' },
      virus: { verdict: 'pass' },
    });
    expect(dmarcRejects(v)).toBe(false);
  });

  it('maps FAIL, GRAY, PROCESSING_FAILED and missing verdicts', () => {
    const v = mapSesVerdicts({
      spfVerdict: { status: 'GRAY' },
      dkimVerdict: { status: 'GRAY' },
      dmarcVerdict: { status: 'FAIL' },
      dmarcPolicy: 'REJECT',
      spamVerdict: { status: 'GRAY' },
      virusVerdict: { status: 'PROCESSING_FAILED' },
    });
    expect(v.spf).toMatchObject({ result: 'none', domain: null, mailFrom: null });
    expect(v.dkim).toEqual([]);
    expect(v.dmarc).toMatchObject({ result: 'fail', policy: 'reject', domain: null });
    expect(v.spam).toEqual({ verdict: 'gray' });
    expect(v.virus).toEqual({ verdict: 'temperror' });
    expect(dmarcRejects(v)).toBe(true);

    const bare = mapSesVerdicts({
      dkimVerdict: { status: 'PROCESSING_FAILED' },
      spfVerdict: { status: 'FAIL' },
    });
    expect(bare.spf.result).toBe('fail');
    expect(bare.dkim).toEqual([{ result: 'temperror', domain: null, selector: null, aligned: null }]);
    expect(bare.dmarc).toMatchObject({ result: 'none', policy: null });
    expect(bare.spam).toBeNull();
    expect(bare.virus).toBeNull();
    expect(dmarcRejects(bare)).toBe(false);
  });

  it('takes the From: domain only from a single address', () => {
    const many = mapSesVerdicts({}, { commonHeaders: { from: ['a@example.com', 'b@example.net'] } });
    expect(many.dmarc.domain).toBeNull();
    const plain = mapSesVerdicts({}, { commonHeaders: { from: ['a@Example.net'] } });
    expect(plain.dmarc.domain).toBe('example.net');
  });

  it.skipIf(!SES_EVENTS || !existsSync(SES_EVENTS))('maps the real SES event shapes of the corpus', () => {
    const files = [
      'aws-lambda-go/events/testdata/ses-lambda-event.json',
      'aws-lambda-go/events/testdata/ses-s3-event.json',
      'aws-lambda-go/events/testdata/ses-sns-event.json',
      'powertools-lambda-python/tests/events/sesEvent.json',
      'powertools-lambda-typescript/packages/parser/tests/events/ses/base.json',
      'aws-sam-cli/samcli/lib/generated_sample_events/events/ses/SesEmailReceiving.json',
    ];
    for (const file of files) {
      const event = JSON.parse(readFileSync(join(SES_EVENTS!, file), 'utf8'));
      const { receipt, mail } = event.Records[0].ses;
      const v = mapSesVerdicts(receipt, mail);
      expect(v.source, file).toBe('ses');
      expect(v.spf.result, file).toBe('pass');
      expect(
        v.dkim.map((d) => d.result),
        file,
      ).toEqual(['pass']);
      expect(v.spam, file).toEqual({ verdict: 'pass' });
      expect(v.virus, file).toEqual({ verdict: 'pass' });
      expect(v.spf.mailFrom, file).toBe(mail.source);
      expect(authenticationResultsHeader(v, 'mx.mailroom.test'), file).toMatch(
        /^Authentication-Results: mx\.mailroom\.test \(verdicts from Amazon SES\);\r\n spf=pass/,
      );
    }
    const notification = JSON.parse(
      readFileSync(
        join(
          SES_EVENTS!,
          'awsdocs-amazon-ses-developer-guide/extracted-json/receiving-email-notifications-examples.0.json',
        ),
        'utf8',
      ),
    );
    const v = mapSesVerdicts(notification.receipt, notification.mail);
    expect(v.dmarc).toMatchObject({ result: 'none', policy: null });
    expect(v.spf.result).toBe('pass');
  });
});
