import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventShapeError } from '../../../lib/aws/processor-errors.ts';
import { decodeS3EventKey, workItemFromSes, workItemsFromBody } from '../../../lib/aws/work-items.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';
import { s3ObjectCreated, snsEnvelope } from '../../fixtures/aws/aws-events.ts';

const options = { rawBucket: 'raw', smtpPrefix: 'smtp/', sesPrefix: 'ses/' };
const notification = () =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '../../fixtures/aws/ses-s3-action-notification.json'), 'utf8'),
  );

describe('decodeS3EventKey', () => {
  it('decodes form encoding: %XX escapes and + for a space', () => {
    expect(decodeS3EventKey('inbound+mail/a%2Bb%3Dc%C3%A9.eml')).toBe('inbound mail/a+b=cé.eml');
  });

  it('refuses a malformed escape', () => {
    expect(() => decodeS3EventKey('smtp/%E0%A4%A.eml')).toThrow(EventShapeError);
  });
});

describe('workItemsFromBody', () => {
  it('reads an S3 action notification in an SNS envelope: location, envelope from the receipt, verdicts', () => {
    const { items, ignored } = workItemsFromBody(snsEnvelope(notification()), options);
    expect(ignored).toEqual([]);
    expect(items).toEqual([
      {
        id: 'k2fsl9h7cn0q3j8vd4ebt5im6p1r7a0gu2s8e3o1',
        origin: 'ses',
        object: { bucket: 'mailroom-raw', key: 'ses/k2fsl9h7cn0q3j8vd4ebt5im6p1r7a0gu2s8e3o1' },
        envelope: { mailFrom: 'alice@sender.test', rcptTo: ['support@example.com', 'orders@example.com'] },
        auth: expect.objectContaining({ source: 'ses', spam: { verdict: 'fail' } }),
        receivedAt: '2024-05-14T09:30:12.512Z',
      },
    ]);
  });

  it('reads a notification delivered without an SNS envelope (raw message delivery)', () => {
    const { items } = workItemsFromBody(JSON.stringify(notification()), options);
    expect(items.map((i) => i.id)).toEqual(['k2fsl9h7cn0q3j8vd4ebt5im6p1r7a0gu2s8e3o1']);
  });

  it('decodes SNS action content (UTF8 by default) and keeps it at <sesPrefix><messageId>', () => {
    const n = notification();
    n.receipt.action = { type: 'SNS', topicArn: 'arn:aws:sns:us-east-1:123456789012:t' };
    n.content = 'Subject: café\r\n\r\nhi\r\n';
    const [item] = workItemsFromBody(snsEnvelope(n), { ...options, sesPrefix: 'in/ses/' }).items;
    expect(item?.object).toEqual({ bucket: 'raw', key: `in/ses/${n.mail.messageId}` });
    expect(item?.content?.toString('utf8')).toBe(n.content);
    expect(item?.size).toBe(Buffer.byteLength(n.content));
  });

  it('reads every object of an S3 event and ignores what is not a created message', () => {
    const a = newMessageId();
    const b = newMessageId();
    const records = [a, b].map((id) => JSON.parse(s3ObjectCreated('raw', `smtp/${id}.eml`, 10)).Records[0]);
    const removed = JSON.parse(s3ObjectCreated('raw', `smtp/${a}.eml`, 10, 'ObjectRemoved:Delete'))
      .Records[0];
    const { items, ignored } = workItemsFromBody(JSON.stringify({ Records: [...records, removed] }), options);
    expect(items.map((i) => [i.id, i.origin, i.object.key, i.size])).toEqual([
      [a, 'smtp', `smtp/${a}.eml`, 10],
      [b, 'smtp', `smtp/${b}.eml`, 10],
    ]);
    expect(items[0]?.envelope).toBeUndefined(); // from the object's metadata, never from the event
    expect(ignored).toEqual([`ObjectRemoved:Delete of s3://raw/smtp/${a}.eml`]);
  });

  it.each([
    ['a body that is not JSON', '{"Records": ['],
    ['an unknown document', JSON.stringify({ Records: [{ eventSource: 'aws:kinesis' }] })],
    ['an SNS message that is not JSON', snsEnvelope('Hello from SNS!')],
    ['an SNS envelope inside an SNS envelope', snsEnvelope(snsEnvelope(notification()))],
    ['an S3 key outside the prefix', s3ObjectCreated('raw', 'other/x.eml', 1)],
    ['an S3 key that is no Mailroom id', s3ObjectCreated('raw', 'smtp/not-an-id.eml', 1)],
  ])('refuses %s', (_what, body) => {
    expect(() => workItemsFromBody(body, options)).toThrow(EventShapeError);
  });

  it('names what is wrong with a Received notification', () => {
    const n = notification();
    delete n.receipt.recipients;
    expect(() => workItemsFromBody(snsEnvelope(n), options)).toThrow(/receipt\.recipients/);
    const bad = notification();
    bad.mail.messageId = '../../etc/passwd';
    expect(() => workItemsFromBody(snsEnvelope(bad), options)).toThrow(
      /mail\.messageId: not an SES message id/,
    );
  });
});

describe('workItemFromSes', () => {
  it('reads a Lambda action event from <sesPrefix><messageId> in the raw bucket', () => {
    const { mail, receipt } = notification();
    receipt.action = { type: 'Lambda', functionArn: 'arn:aws:lambda:us-east-1:1:function:f' };
    const item = workItemFromSes(mail, receipt, undefined, options);
    expect(item.object).toEqual({ bucket: 'raw', key: `ses/${mail.messageId}` });
    expect(item.content).toBeUndefined();
  });
});
