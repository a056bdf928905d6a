/**
 * A first-in first-out queue whose `shift` is O(1) however long it gets (an array's `shift` moves every
 * element): an array read from a head index, which drops what is behind the head once that is most of it.
 * The pipeline's queues use it: a busy MX can hold tens of thousands of messages behind processing.
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Takes the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes every item, oldest first. */
  takeAll(): T[] {
    const all = this.#items.slice(this.#head);
    this.clear();
    return all;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
