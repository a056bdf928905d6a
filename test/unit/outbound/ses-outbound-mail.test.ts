import { SESv2Client, type SendEmailCommand } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { SesMail, type SesSendClient } from '../../../lib/aws/ses-outbound-mail.ts';
import { OutboundError } from '../../../lib/outbound/errors.ts';

const raw = Buffer.from(
  'From: support@example.com\r\nMessage-ID: <r1@example.com>\r\nSubject: Re: Hi\r\n\r\nok\r\n',
);

// SES cannot run here: this is the one place a stand-in client is used.
class RecordingSesClient implements SesSendClient {
  readonly commands: SendEmailCommand[] = [];
  constructor(readonly fail?: Error) {}
  async send(command: SendEmailCommand) {
    this.commands.push(command);
    if (this.fail) throw this.fail;
    return { MessageId: '0100018f2a-ses-id' };
  }
}

describe('SesMail', () => {
  it('accepts a real SESv2Client', () => {
    const client: SesSendClient = new SESv2Client({ region: 'eu-west-1' });
    expect(new SesMail({ client }).kind).toBe('ses');
    (client as SESv2Client).destroy();
  });

  it('sends the raw bytes with the envelope through SendEmail Content.Raw', async () => {
    const client = new RecordingSesClient();
    const ses = new SesMail({ client, configurationSetName: 'replies' });
    const result = await ses.send(raw, { from: 'support@example.com', to: ['ada@example.net'] });
    expect(result).toEqual({ messageId: '0100018f2a-ses-id' });
    expect(client.commands).toHaveLength(1);
    const input = client.commands[0]!.input;
    expect(input.FromEmailAddress).toBe('support@example.com');
    expect(input.Destination).toEqual({ ToAddresses: ['ada@example.net'] });
    expect(input.ConfigurationSetName).toBe('replies');
    expect(Buffer.from(input.Content!.Raw!.Data!).equals(raw)).toBe(true);
  });

  it('turns an SES error into an OutboundError with its cause', async () => {
    const cause = Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' });
    const ses = new SesMail({ client: new RecordingSesClient(cause) });
    const err = await ses.send(raw, { from: 'support@example.com', to: ['ada@example.net'] }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.message).toBe('SES SendEmail failed: MessageRejected: Email address is not verified.');
    expect(err.cause).toBe(cause);
  });
});
