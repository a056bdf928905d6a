import { BlockList, isIP, isIPv6 } from 'node:net';
import type { SmtpOptions } from '../config/index.ts';
import { IngressConfigError } from './errors.ts';

/** The SMTP defaults, the same as `resolveConfig()` fills in (a test keeps the two equal). */
export const smtpDefaults: Required<SmtpOptions> = {
  host: '127.0.0.1',
  port: 2525,
  hostname: 'mailroom.local',
  maxMessageBytes: 25 * 1024 * 1024,
  maxRecipients: 100,
  socketTimeoutMs: 300_000,
  closeTimeoutMs: 30_000,
  maxClients: 100,
  maxClientsPerIp: 10,
  maxClientsPerNetwork: 20,
  maxPipelinedCommands: 1000,
  maxSessionMs: 1_800_000,
  minDataRateBytesPerSecond: 500,
  dataRateGraceMs: 30_000,
  evictIdleAfterMs: 10_000,
  connectionRatePerIp: 100,
  messageRatePerIp: 300,
  rateWindowMs: 60_000,
  limitExemptIps: ['127.0.0.1', '::1'],
  maxBadCommands: 10,
  maxCommandLineBytes: 512,
  greetingDelayMs: 100,
  greetingTimeoutMs: 300_000,
  mailTimeoutMs: 300_000,
  rcptTimeoutMs: 300_000,
  dataInitiationTimeoutMs: 120_000,
  dataBlockTimeoutMs: 180_000,
  dataTerminationTimeoutMs: 600_000,
  tls: null,
  proxyProtocol: null,
};

/**
 * Who a per-IP limit counts against: the IPv4 address, or the /64 of an IPv6 address (one IPv6 host
 * usually has a whole /64 to pick addresses from).
 */
export function clientKey(address: string): string {
  const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
  if (!isIPv6(ip)) return ip;
  return `${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
}

/**
 * The network a per-network limit counts against: the IPv4 /24 or the IPv6 /48 (what one provider
 * typically gives one customer).
 */
export function networkKey(address: string): string {
  const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
  if (!isIPv6(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  return `${ipv6Groups(ip).slice(0, 3).join(':')}::/48`;
}

/** The eight groups of an IPv6 address, without leading zeros (an embedded IPv4 tail counts as two). */
function ipv6Groups(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const h = groups(head);
  const t = groups(tail);
  const full = tail === undefined ? h : [...h, ...new Array<string>(8 - width(h) - width(t)).fill('0'), ...t];
  return full.map((g) => (g.includes('.') ? g : Number.parseInt(g, 16).toString(16)));
}

/** Addresses and CIDR ranges (`limitExemptIps`) as a matcher. */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(address)) throw new IngressConfigError(`not an IP address or CIDR range: ${entry}`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (raw) => {
    const address = raw.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = isIP(address);
    if (!family) return false;
    return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * Counts events per key in fixed windows that start at a key's first event. Memory stays bounded: a key
 * whose window is over is dropped when the next key arrives (keys are kept in window order, so this costs
 * nothing per event however many keys there are).
 */
export class WindowCounter {
  readonly #windowMs: number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Records one event for `key`; returns how many it has had in its current window, this one included. */
  hit(key: string, now = performance.now()): number {
    const window = this.#windows.get(key);
    if (window && now - window.start < this.#windowMs) return ++window.count;
    if (window) this.#windows.delete(key);
    for (const [k, w] of this.#windows) {
      if (now - w.start < this.#windowMs) break;
      this.#windows.delete(k);
    }
    this.#windows.set(key, { start: now, count: 1 });
    return 1;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#windows.size;
  }
}
