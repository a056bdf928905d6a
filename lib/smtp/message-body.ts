import type { SMTPServerDataStream } from 'smtp-server';
import { MessageTooBigError, type SmtpReplyError } from './errors.ts';

/**
 * The DATA stream of one message as the iterable handed to `accept()`.
 *
 * It yields the bytes as they arrive and throws a {@link MessageTooBigError} as soon as smtp-server flags
 * the message as over the limit, so the store gives up and nothing the size of the message is held.
 * Unlike iterating the stream directly, ending the iteration early does not destroy the stream: smtp-server
 * can only answer once it has read the rest of the message, which {@link MessageBody.drain} does.
 *
 * `refusal` is asked before each chunk is handed on and once more at the end: when it returns an error
 * (the message has a bare LF, or was pipelined), the iteration throws it and the store gives up, so a
 * refused message is never complete.
 */
export class MessageBody implements AsyncIterable<Buffer> {
  readonly #stream: SMTPServerDataStream;
  readonly #limit: number;
  readonly #controller: AbortController;
  readonly #refusal: () => SmtpReplyError | null;
  #iterated = false;
  #complete = false;
  #refused: SmtpReplyError | null = null;

  constructor(
    stream: SMTPServerDataStream,
    limit: number,
    controller: AbortController,
    refusal: () => SmtpReplyError | null = () => null,
  ) {
    this.#stream = stream;
    this.#limit = limit;
    this.#controller = controller;
    this.#refusal = refusal;
  }

  /** The refusal the iteration threw, if it threw one. */
  get refused(): SmtpReplyError | null {
    return this.#refused;
  }

  /** True once the iteration has yielded the whole message. */
  get complete(): boolean {
    return this.#complete;
  }

  /** True when the message went over the limit (known for sure only after {@link drain}). */
  get tooBig(): boolean {
    return this.#stream.sizeExceeded;
  }

  /** Bytes of the message received so far. */
  get bytesReceived(): number {
    return this.#stream.byteLength;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#iterated) throw new Error('the message body can only be read once');
    this.#iterated = true;
    const stream = this.#stream;
    try {
      for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        this.#checkRefusal();
        if (stream.sizeExceeded) throw this.#tooBig();
        yield chunk;
      }
      this.#checkRefusal();
    } catch (err) {
      if (!this.#controller.signal.aborted) this.#controller.abort(err);
      throw err;
    }
    if (stream.sizeExceeded) throw this.#tooBig();
    this.#complete = true;
  }

  /**
   * Reads and discards whatever of the message is still unread; resolves once the client has sent all of
   * it (or gone away). Memory stays flat however much is left.
   */
  drain(): Promise<void> {
    const stream = this.#stream;
    if (stream.readableEnded || stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stream.off('end', done);
        stream.off('close', done);
        stream.off('error', done);
        resolve();
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
      // An abandoned iterator may still listen for 'readable', which would keep the stream paused.
      stream.removeAllListeners('readable');
      stream.on('data', discard);
      stream.resume();
    });
  }

  #checkRefusal(): void {
    const refusal = this.#refusal();
    if (refusal) {
      this.#refused = refusal;
      throw refusal;
    }
  }

  #tooBig(): MessageTooBigError {
    const err = new MessageTooBigError(this.#limit);
    if (!this.#controller.signal.aborted) this.#controller.abort(err);
    return err;
  }
}

function discard(): void {}
