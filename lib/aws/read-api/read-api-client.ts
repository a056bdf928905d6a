import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, SourceData } from '@smithy/types';
import { MailroomError } from '../../kernel/index.ts';

/**
 * The client side of the read API (`mailroom messages`, `mailroom message`): GET requests signed with
 * SigV4 for service `lambda` (a Function URL with IAM auth), with the SDK's default credentials. A `302`
 * (a presigned S3 URL) is followed without the signature.
 */

/** The read API answered with an error, or could not be reached. `status` is the HTTP status when there was one. */
export class ReadApiClientError extends MailroomError {
  override readonly name = 'ReadApiClientError';
  constructor(
    message: string,
    readonly status: number | null,
    options: { cause?: unknown } = {},
  ) {
    super(message, { retryable: status === null || status >= 500, cause: options.cause });
  }
}

/** SHA-256 (or HMAC-SHA-256 with a secret) from node:crypto, as the signer's `Checksum`. */
class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.#secret));
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The region of a Function URL (`https://<id>.lambda-url.<region>.on.aws/`); undefined for another host. */
export function functionUrlRegion(url: string): string | undefined {
  return /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(new URL(url).hostname)?.[1];
}

export interface ReadApiClientOptions {
  /** The Function URL. */
  url: string;
  /** @default the URL's region, else $AWS_REGION */
  region?: string;
  /** @default the SDK's default chain (environment, profile, SSO, instance role…) */
  credentials?: AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>);
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface ReadApiClient {
  /** GET `path` (with `query`) and the JSON body of a 200. */
  json<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  /** GET `path` and the bytes: the body of a 200, or of the presigned URL a 302 names. */
  bytes(path: string): Promise<Buffer>;
}

export function createReadApiClient(options: ReadApiClientOptions): ReadApiClient {
  const base = new URL(options.url);
  const region = options.region ?? functionUrlRegion(options.url) ?? process.env.AWS_REGION;
  if (!region)
    throw new ReadApiClientError('no region: give --region, or a Function URL that names one', null);
  const signer = new SignatureV4({
    service: 'lambda',
    region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: NodeSha256,
  });
  const doFetch = options.fetch ?? globalThis.fetch;

  async function get(path: string, query: Record<string, string> = {}): Promise<Response> {
    const url = new URL(path, base);
    const request = await signer.sign({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { host: url.host },
    });
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    try {
      return await doFetch(url, { headers: request.headers, redirect: 'manual' });
    } catch (cause) {
      throw new ReadApiClientError(`cannot reach the read API at ${base.origin}: ${String(cause)}`, null, {
        cause,
      });
    }
  }

  async function failure(res: Response): Promise<ReadApiClientError> {
    const text = await res.text().catch(() => '');
    let detail = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { error?: unknown; message?: unknown; Message?: unknown };
      detail = String(body.error ?? body.message ?? body.Message ?? detail);
    } catch {
      // not JSON: the text as it is
    }
    return new ReadApiClientError(`read API: ${res.status} ${detail}`.trim(), res.status);
  }

  return {
    async json<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
      const given = Object.fromEntries(
        Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const res = await get(path, given);
      if (res.status !== 200) throw await failure(res);
      return (await res.json()) as T;
    },
    async bytes(path: string): Promise<Buffer> {
      const res = await get(path);
      if (res.status === 302) {
        const location = res.headers.get('location');
        if (!location) throw new ReadApiClientError('read API: a redirect without a location', 302);
        const followed = await doFetch(location);
        if (followed.status !== 200) throw await failure(followed);
        return Buffer.from(await followed.arrayBuffer());
      }
      if (res.status !== 200) throw await failure(res);
      return Buffer.from(await res.arrayBuffer());
    },
  };
}
