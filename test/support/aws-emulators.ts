/**
 * Local stand-ins for the AWS services the integration tests talk to, over real HTTP on the loopback
 * interface: s3rver for S3 and dynalite for DynamoDB. Nothing here reaches AWS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';

/** The region every emulator client uses. */
export const EMULATOR_REGION = 'us-east-1';

/** The credentials s3rver checks signatures with (dynalite accepts any). */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** The fresh temporary directory s3rver keeps its objects in (removed by {@link S3rverHandle.close}). */
  directory: string;
  close(): Promise<void>;
}

export interface StartS3rverOptions {
  /** Buckets that exist when the server starts. @default [] */
  buckets?: string[];
}

/** Starts a silent s3rver on 127.0.0.1 (a free port) with its data in a fresh temporary directory. */
export async function startS3rver(options: StartS3rverOptions = {}): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'mailroom-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    close() {
      closed ??= (async () => {
        try {
          await server.close();
        } finally {
          await rm(directory, { recursive: true, force: true });
        }
      })();
      return closed;
    },
  };
}

export interface DynaliteHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  close(): Promise<void>;
}

/** Starts an in-memory dynalite on 127.0.0.1 (a free port); tables become ACTIVE at once. */
export async function startDynalite(): Promise<DynaliteHandle> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Clients keep connections alive; without this the close would wait for them to time out.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** An S3 client for an emulator endpoint: path-style URLs, the emulator's region and credentials. */
export function s3ClientFor(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
    forcePathStyle: true,
  });
}

/** A DynamoDB client for an emulator endpoint, with the emulator's region and (dummy) credentials. */
export function dynamoClientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
}
