import type { Logger } from '../kernel/index.ts';
import { SmtpReplyError } from './errors.ts';
import { addressMatcher } from './limits.ts';
import { readProxyHeader } from './proxy-protocol.ts';
import type { ProxyHeaderHook } from './smtp-server-adapter.ts';

/**
 * PROXY protocol: a socket from a trusted proxy reaches the session only once its header is read, with
 * the client's address in place of the proxy's. Everyone else goes straight on; a PROXY header from
 * them is refused by the {@link InputGuard}. A header that cannot be read gets its `421` (when the
 * socket can still take it) and the socket is closed.
 */
export function proxyHeaderHook(
  trustedProxies: string[],
  timeoutMs: number,
  logger: Logger,
): ProxyHeaderHook {
  const trusted = addressMatcher(trustedProxies);
  return {
    expectedFrom: trusted,
    read(socket) {
      const proxy = socket.remoteAddress;
      return readProxyHeader(socket, timeoutMs).then(
        (header) => {
          logger.debug('smtp PROXY header', { proxy, version: header.version, client: header.client });
          return header.client;
        },
        (err: Error) => {
          logger.info('smtp PROXY header refused', { proxy, error: err.message });
          socket.on('error', () => {});
          if (err instanceof SmtpReplyError && socket.writable) {
            socket.end(`${err.responseCode} ${err.message}\r\n`);
            setTimeout(() => socket.destroy(), 1000).unref();
          } else {
            socket.destroy();
          }
          throw err;
        },
      );
    },
  };
}
