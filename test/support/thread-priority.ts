import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';

/**
 * Whether a thread's scheduling priority can be seen and lowered here: Linux (`/proc/thread-self`), and a
 * process not already at nice 10 or below (then lowering a thread to 10 would change nothing).
 */
export const threadPrioritiesVisible = existsSync('/proc/thread-self') && getPriority() < 10;

/** This process's threads by kernel tid with their nice values (Linux), from /proc/self/task/<tid>/stat. */
export function threadNiceValues(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (in parentheses): state is field 3, nice field 19.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      nice.set(Number(tid), Number(fields[16]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return nice;
}

/** Threads at nice `value` that were not in `before` (a {@link threadNiceValues} result). */
export function newThreadsAt(before: Map<number, number>, value: number): number[] {
  return [...threadNiceValues()].filter(([tid, n]) => n === value && !before.has(tid)).map(([tid]) => tid);
}
