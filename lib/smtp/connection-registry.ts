import type { SMTPServer } from 'smtp-server';

/** smtp-server's connection class (not exported by name). */
export type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/** A reply text that begins with its own enhanced status code, e.g. `5.7.1 Relaying denied`. */
const OWN_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}(?: |$)/;

/**
 * Stands in for `SMTPServer.connections` (smtp-server adds each new connection to it and removes it when
 * it closes) to keep connections findable by session id and to adjust how each one words its replies.
 *
 * With enhanced status codes on, smtp-server puts a code chosen from the reply number alone in front of
 * every reply (`550` → `5.1.1`, `552` → `5.2.2`), even when the text already has the right one
 * (`550 5.7.1`, `552 5.3.4`). A reply whose text starts with an enhanced status code is sent as it is.
 */
export class ConnectionRegistry extends Set<SmtpConnection> {
  readonly #byId = new Map<string, SmtpConnection>();
  readonly #prepare: ((connection: SmtpConnection) => void) | undefined;

  /**
   * @param prepare Called once for each new connection, before smtp-server starts reading from its
   *   socket (smtp-server adds a connection here just before `init()`).
   */
  constructor(prepare?: (connection: SmtpConnection) => void) {
    super();
    this.#prepare = prepare;
  }

  override add(connection: SmtpConnection): this {
    if (!this.has(connection)) {
      const send = connection.send;
      connection.send = (code, data, context) =>
        send.call(
          connection,
          code,
          data,
          typeof data === 'string' && OWN_ENHANCED_CODE.test(data) ? false : context,
        );
      this.#byId.set(connection.id, connection);
      this.#prepare?.(connection);
    }
    return super.add(connection);
  }

  override delete(connection: SmtpConnection): boolean {
    if (this.#byId.get(connection.id) === connection) this.#byId.delete(connection.id);
    return super.delete(connection);
  }

  override clear(): void {
    this.#byId.clear();
    super.clear();
  }

  /** The connection of a session (`session.id` is the connection's id). */
  byId(id: string): SmtpConnection | undefined {
    return this.#byId.get(id);
  }
}
