/**
 * AWS Regions where Amazon SES receives email (where `inbound-smtp.<region>.amazonaws.com` exists).
 *
 * Source: AWS General Reference, "Amazon Simple Email Service endpoints and quotas", section "Email
 * receiving endpoints" (https://docs.aws.amazon.com/general/latest/gr/ses.html). The list was taken from
 * the project's brief and checked against that page's title and structure only (the table itself was not
 * reachable offline); when AWS adds a region, add it here.
 */
export const SES_RECEIVING_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'ca-west-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'eu-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-south-1',
  'il-central-1',
  'me-central-1',
  'sa-east-1',
  'af-south-1',
];

/** The SES inbound SMTP endpoint an MX record points to. */
export function sesInboundSmtpHost(region: string): string {
  return `inbound-smtp.${region}.amazonaws.com`;
}
