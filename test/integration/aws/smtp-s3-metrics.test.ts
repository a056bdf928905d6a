/**
 * `mailroom smtp` in S3 mode (in-process, against s3rver) prints `MessagesReceived` as EMF on stdout:
 * counts summed over the flush interval (here: flushed at close), service `mailroom-smtp`.
 */
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startS3SmtpIngress } from '../../../lib/cli/commands/smtp-s3.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { defineMailroom, mailbox } from '../../../lib/index.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { EMULATOR_CREDENTIALS, type S3rverHandle, startS3rver } from '../../support/aws-emulators.ts';
import { captureStdout, emfMetrics } from '../../support/emf-lines.ts';

let s3rver: S3rverHandle;

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: ['raw'] });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await s3rver?.close();
});

describe('mailroom smtp metrics (S3 mode)', () => {
  it('prints one EMF line at close with the messages answered 250, not one per message', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', EMULATOR_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', EMULATOR_CREDENTIALS.secretAccessKey);
    const config = resolveConfig(
      defineMailroom({
        domains: ['example.com'],
        auth: { dns: {} },
        routes: [{ name: 'support', match: 'support@example.com', action: mailbox('support') }],
      }),
    );
    const out = await captureStdout(async () => {
      const ingress = await startS3SmtpIngress({
        config,
        logger: silentLogger,
        s3: { bucket: 'raw', prefix: 'smtp/', endpoint: s3rver.endpoint, region: 'us-east-1' },
        smtpHost: '127.0.0.1',
        smtpPort: 0,
      });
      const transport = createTransport({ host: '127.0.0.1', port: ingress.smtpPort, ignoreTLS: true });
      for (let i = 0; i < 3; i++) {
        await transport.sendMail({
          envelope: { from: 'ada@sender.test', to: ['support@example.com'] },
          raw: `From: ada@sender.test\r\nTo: support@example.com\r\nSubject: ${i}\r\n\r\nhi\r\n`,
        });
      }
      // Refused at RCPT: never answered 250 at the end of DATA, not counted.
      await expect(
        transport.sendMail({
          envelope: { from: 'ada@sender.test', to: ['nobody@example.com'] },
          raw: 'Subject: lost\r\n\r\nhi\r\n',
        }),
      ).rejects.toThrow(/550/);
      transport.close();
      await ingress.close();
    });

    const emf = out.lines.filter((l) => l.parsed && '_aws' in l.parsed);
    expect(emf).toHaveLength(1);
    expect(emfMetrics(out.lines)).toEqual([
      {
        namespace: 'Mailroom',
        name: 'MessagesReceived',
        unit: 'Count',
        dimensions: { service: 'mailroom-smtp' },
        value: 3,
      },
    ]);
  });
});
