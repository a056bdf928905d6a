#!/usr/bin/env node
/**
 * s3rver for the S3 mode of `npm run bench` (bench/suite/s3.ts starts it, pinned to the client's core):
 * 127.0.0.1, a free port, the bucket given, objects kept in DIR. Tells its port over IPC.
 *
 *   node bench/suite/s3rver-server.js DIR BUCKET
 */
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});
const address = await server.run();
process.send({ type: 'ready', port: address.port });
const stop = () => server.close().finally(() => process.exit(0));
process.on('disconnect', stop);
process.on('SIGTERM', stop);
