import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PostBatcher, unbatch } from '../../../lib/kernel/index.ts';

/** Every post `port` receives, as it came (an array from a batcher, or one value). */
function received(port: MessagePort): unknown[] {
  const posts: unknown[] = [];
  port.on('message', (data) => posts.push(data));
  return posts;
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('PostBatcher', () => {
  const ports: MessagePort[] = [];
  afterEach(() => {
    for (const p of ports.splice(0)) p.close();
  });
  function channel() {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    return { sender: port1, posts: received(port2) };
  }

  it('posts what one turn sends as one array, in order, and the next turn as another', async () => {
    const { sender, posts } = channel();
    const batcher = new PostBatcher<{ n: number }>(sender, () => {});
    batcher.post({ n: 1 });
    batcher.post({ n: 2 });
    await Promise.resolve().then(() => batcher.post({ n: 3 })); // a microtask of the same turn
    await nextTurn();
    batcher.post({ n: 4 });
    await nextTurn();
    expect(posts).toEqual([[{ n: 1 }, { n: 2 }, { n: 3 }], [{ n: 4 }]]);
    expect(posts.flatMap((p) => unbatch(p as { n: number }[]))).toHaveLength(4);
  });

  it('transfers the buffers of every message of the batch', async () => {
    const { sender, posts } = channel();
    const batcher = new PostBatcher<{ bytes: ArrayBuffer }>(sender, () => {});
    const a = new Uint8Array([1, 2, 3]).buffer;
    const b = new Uint8Array([4, 5]).buffer;
    batcher.post({ bytes: a }, [a]);
    batcher.post({ bytes: b }, [b]);
    batcher.flush();
    expect([a.byteLength, b.byteLength]).toEqual([0, 0]); // moved, not copied
    await nextTurn();
    const [batch] = posts as Array<Array<{ bytes: ArrayBuffer }>>;
    expect(batch!.map((m) => [...new Uint8Array(m.bytes)])).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('drops only a message that cannot be cloned, reports it, and posts the others', async () => {
    const { sender, posts } = channel();
    const errors: Array<{ message: unknown; error: string }> = [];
    const batcher = new PostBatcher<{ n: number; f?: () => void }>(sender, (err, message) =>
      errors.push({ message, error: String(err) }),
    );
    const bad = { n: 2, f: () => {} };
    batcher.post({ n: 1 });
    batcher.post(bad);
    batcher.post({ n: 3 });
    expect(() => batcher.flush()).not.toThrow();
    await nextTurn();
    expect(posts).toEqual([[{ n: 1 }], [{ n: 3 }]]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(bad);
    expect(errors[0]!.error).toMatch(/could not be cloned/);
  });

  it('unbatch takes a single message posted alone as a batch of one', () => {
    expect(unbatch({ type: 'x' })).toEqual([{ type: 'x' }]);
    expect(unbatch([{ type: 'x' }, { type: 'y' }])).toHaveLength(2);
  });
});
