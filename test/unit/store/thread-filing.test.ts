import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../lib/message/index.ts';
import {
  type FiledMessage,
  fileInThread,
  fileInThreadSync,
  type SyncThreadStorage,
  type ThreadLookup,
  threadLookups,
} from '../../../lib/store/thread-filing.ts';
import { threadKeys } from '../../../lib/store/thread-keys.ts';

const eml = (headers: string[]) =>
  Buffer.from([...headers, 'From: dan@example.org', 'To: support@example.com', '', 'text', ''].join('\r\n'));

/** Storage that answers from a table of lookups and records what it was asked. */
function recordingStorage(answers: Partial<Record<ThreadLookup['by'], string>>, recorded = true) {
  const calls: string[] = [];
  const storage: SyncThreadStorage = {
    findThread: (lookup) => {
      calls.push(`find ${lookup.by}${'pick' in lookup ? ` ${lookup.pick}` : ''}`);
      return answers[lookup.by] ?? null;
    },
    saveFiled: (filed: FiledMessage) => {
      calls.push(`save ${filed.id} in ${filed.threadId} (parse says ${filed.parsed.thread.id})`);
      return recorded;
    },
    moveThread: (from, to) => {
      calls.push(`move ${from} to ${to}`);
    },
  };
  return { storage, calls };
}

describe('thread filing policy', () => {
  it('looks up by Message-IDs, then the oldest Thread-Index, then (an unreferenced reply) the newest subject', async () => {
    const reply = await parseMessage(eml(['Subject: Re: Toner', 'Message-ID: <a@example.org>']));
    expect(threadLookups(threadKeys(reply)).map((l) => [l.by, 'pick' in l ? l.pick : null])).toEqual([
      ['messageIds', null],
      ['subjectKey', 'newest'],
    ]);
    const referencing = await parseMessage(
      eml(['Subject: Re: Toner', 'Message-ID: <b@example.org>', 'In-Reply-To: <gone@example.org>']),
    );
    expect(threadLookups(threadKeys(referencing)).map((l) => l.by)).toEqual(['messageIds']);
    const fresh = await parseMessage(eml(['Subject: Toner']));
    expect(threadLookups(threadKeys(fresh))).toEqual([]);
  });

  it('stops at the first lookup that finds a thread, saves the parse with it and moves early replies', async () => {
    const parsed = await parseMessage(
      eml(['Subject: Re: Toner', 'Message-ID: <c@example.org>', 'In-Reply-To: <root@example.org>']),
    );
    const { storage, calls } = recordingStorage({ messageIds: 'T-root' });
    expect(fileInThreadSync(storage, 'm1', parsed)).toEqual({ threadId: 'T-root' });
    const rootedHere = threadKeys(parsed).rootedHere;
    expect(calls).toEqual([
      'find messageIds',
      'save m1 in T-root (parse says T-root)',
      `move ${rootedHere} to T-root`,
    ]);
  });

  it('keeps the parser thread when nothing is found, and moves nothing for a message without a record', async () => {
    const parsed = await parseMessage(eml(['Subject: Re: Toner', 'Message-ID: <d@example.org>']));
    const { storage, calls } = recordingStorage({}, false);
    const asynchronous = {
      findThread: async (l: ThreadLookup, id: string) => storage.findThread(l, id),
      saveFiled: async (f: FiledMessage) => storage.saveFiled(f),
      moveThread: async (from: string, to: string) => storage.moveThread(from, to),
    };
    expect(await fileInThread(asynchronous, 'm2', parsed)).toEqual({ threadId: parsed.thread.id });
    expect(calls).toEqual([
      'find messageIds',
      'find subjectKey newest',
      `save m2 in ${parsed.thread.id} (parse says ${parsed.thread.id})`,
    ]);
  });
});
