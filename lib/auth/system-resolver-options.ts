/** Options of {@link createSystemResolver}. */
export interface SystemResolverOptions {
  /**
   * Name servers (`'192.0.2.53'`, `'[2001:db8::53]:5353'`).
   * @default the system's (/etc/resolv.conf)
   */
  servers?: string[];
  /**
   * Longest wait for one question, retries included; past it the question fails with `ETIMEOUT`
   * (a `temperror` verdict, so the sender's mail is not judged on a slow DNS server).
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Attempts per name server.
   * @default 2
   */
  tries?: number;
  /**
   * Keep answers (records, and NXDOMAIN/no records) this many seconds per name and type, at most 10,000;
   * a record's own shorter TTL is not read. Timeouts and server failures are never kept. 0: no cache.
   * @default 0
   */
  cacheSeconds?: number;
}
