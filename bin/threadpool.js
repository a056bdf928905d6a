// Imported first by bin/mailroom.js, before anything touches the filesystem: libuv's pool runs every
// fsync, and with the default 4 threads a batch of file writes can make an SMTP `250` wait for a thread.
process.env.UV_THREADPOOL_SIZE ??= '16';
