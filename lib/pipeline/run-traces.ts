import { type ProcessingPorts, trace } from './ports.ts';
import type { RunWrites } from './run-writes.ts';

/**
 * The trace entries of one processing run of one message. With a store that applies its writes in call
 * order (`MessageRecords.ordersWrites`: SQLite), an entry does not hold the run up: it is written with the
 * run's next write, in order, instead of in a write (and a transaction) of its own — and, given the run's
 * {@link RunWrites}, as one of them (held with them until the plan is recorded); {@link settled} waits for
 * every one. With any other store each entry is written before `add` resolves. A failed entry is logged,
 * never thrown (see {@link trace}).
 */
export class RunTraces {
  readonly #ports: ProcessingPorts;
  readonly #id: string;
  readonly #writes: RunWrites | undefined;
  readonly #pending: Array<Promise<void>> = [];

  constructor(ports: ProcessingPorts, id: string, writes?: RunWrites) {
    this.#ports = ports;
    this.#id = id;
    this.#writes = writes;
  }

  async add(step: string, detail: string): Promise<void> {
    const write = () => trace(this.#ports, this.#id, step, detail);
    if (this.#writes) await this.#writes.add(write);
    else if (this.#ports.store.ordersWrites === true) this.#pending.push(write());
    else await write();
  }

  /** Resolves once every entry added so far is written (or its failure logged). */
  async settled(): Promise<void> {
    if (this.#writes) await this.#writes.drained();
    while (this.#pending.length > 0) await Promise.all(this.#pending.splice(0));
  }
}
