import { UsageError } from '../errors.ts';

/** Where the read API is: `--url`, else the `ReadApiUrl` output of `--stack`. */
export async function readApiUrl(values: { stack?: string; url?: string; region?: string }): Promise<string> {
  if ((values.stack === undefined) === (values.url === undefined)) {
    throw new UsageError('give --stack NAME or --url URL (one of them)');
  }
  // Every SDK client made from here on uses the region given.
  if (values.region !== undefined) process.env.AWS_REGION = values.region;
  if (values.url !== undefined) {
    if (!URL.canParse(values.url) || !/^https?:$/.test(new URL(values.url).protocol)) {
      throw new UsageError(`--url must be an http(s) URL, got '${values.url}'`);
    }
    return values.url;
  }
  const { stackResources } = await import('../../aws/operations.ts');
  const found = await stackResources(['readApiUrl'], {}, { name: values.stack ?? '' });
  return found.readApiUrl;
}
