import { type ProcessingPorts, trace } from './ports.ts';
import type { RunWrites } from './run-writes.ts';

/**
 * The trace entries of one processing run of one message, written as the run's {@link RunWrites}: with a
 * store that applies its writes in call order (`MessageRecords.ordersWrites`: SQLite) an entry does not
 * hold the run up (held with the run's other writes until the plan is recorded, then handed over at once)
 * and {@link settled} waits for every one; with any other store each entry is written before `add`
 * resolves. A failed entry is logged, never thrown (see {@link trace}).
 */
export class RunTraces {
  readonly #ports: ProcessingPorts;
  readonly #id: string;
  readonly #writes: RunWrites;

  constructor(ports: ProcessingPorts, id: string, writes: RunWrites) {
    this.#ports = ports;
    this.#id = id;
    this.#writes = writes;
  }

  add(step: string, detail: string): Promise<void> {
    return this.#writes.add(() => trace(this.#ports, this.#id, step, detail));
  }

  /** Resolves once every entry added so far (and every other write of the run) is written. */
  settled(): Promise<void> {
    return this.#writes.drained();
  }
}
