/**
 * Reading what a process prints on stdout as CloudWatch Logs would: JSON lines, and among them the
 * embedded metric format ones (`_aws.CloudWatchMetrics`), whose metrics CloudWatch extracts.
 */
import { vi } from 'vitest';

export interface StdoutLine {
  text: string;
  /** The line as JSON, or null when it is not a JSON object. */
  parsed: Record<string, unknown> | null;
}

/** One value of one metric as CloudWatch would extract it from an EMF line. */
export interface EmfMetricValue {
  namespace: string;
  name: string;
  unit: string | undefined;
  /** The dimension set, in its order, with the line's values. */
  dimensions: Record<string, string>;
  value: number;
}

function parseLine(text: string): StdoutLine {
  try {
    const parsed: unknown = JSON.parse(text);
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    return { text, parsed: isObject ? (parsed as Record<string, unknown>) : null };
  } catch {
    return { text, parsed: null };
  }
}

/** Runs `run` with `process.stdout.write` captured (not shown), and returns its result and the lines written. */
export async function captureStdout<T>(
  run: () => Promise<T> | T,
): Promise<{ result: T; lines: StdoutLine[] }> {
  let text = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    const result = await run();
    return {
      result,
      lines: text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(parseLine),
    };
  } finally {
    spy.mockRestore();
  }
}

/** The JSON objects among the lines. */
export function jsonLines(lines: StdoutLine[]): Record<string, unknown>[] {
  return lines.flatMap((l) => (l.parsed ? [l.parsed] : []));
}

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit?: string }>;
}

/** Every metric value the EMF lines among `lines` carry, once per dimension set (as CloudWatch extracts them). */
export function emfMetrics(lines: StdoutLine[]): EmfMetricValue[] {
  const out: EmfMetricValue[] = [];
  for (const line of jsonLines(lines)) {
    const aws = line._aws as { CloudWatchMetrics?: EmfDirective[] } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      for (const set of directive.Dimensions) {
        const dimensions = Object.fromEntries(set.map((d) => [d, String(line[d])]));
        for (const metric of directive.Metrics) {
          const raw = line[metric.Name];
          for (const value of Array.isArray(raw) ? raw : [raw]) {
            out.push({
              namespace: directive.Namespace,
              name: metric.Name,
              unit: metric.Unit,
              dimensions,
              value: Number(value),
            });
          }
        }
      }
    }
  }
  return out;
}
