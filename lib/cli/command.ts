import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/** One option of a command, as its `--help` shows it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Given several times, the values are collected in a list. */
  multiple?: boolean;
  /** What the value is called in the help (`--config F`). */
  value?: string;
  /** One line for `--help`. */
  help: string;
  /** Accepted, not shown (older spellings). */
  hidden?: boolean;
}

type OptionValue<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['multiple'] extends true
    ? string[]
    : string;

/** The values of a command's options: each is undefined when not given. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: OptionValue<O[K]>;
};

/** What a command's `run` receives: its options checked against its spec, and its positionals. */
export interface CommandArgs<O extends Record<string, OptionSpec>> {
  values: OptionValues<O>;
  positionals: string[];
}

/**
 * A command as `mailroom` knows it before loading it: its usage line, its options and how many positional
 * arguments it takes. This is everything `--help`, the top-level help and the usage errors need, so the
 * command's module (and what it imports) is loaded only when the command runs.
 */
export interface CommandSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string;
  /** The usage line, without `usage: `. */
  usage: string;
  /** One line for the top-level help. */
  summary: string;
  /** A paragraph for the command's `--help`. */
  description: string;
  options: O;
  /** How many positional arguments are taken; `what` completes "give …" when too few are given. */
  positionals: { what: string; min: number; max: number };
  /** Loads the command's module and runs it. */
  run(args: CommandArgs<O>): Promise<number>;
}

/** Types a command spec (the options' value types flow into `run`). */
export function defineCommand<const O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
): CommandSpec<O> {
  return spec;
}

const HELP_OPTION: OptionSpec = { type: 'boolean', help: 'show this help' };

/** `mailroom <command> --help`: the usage line, what the command does, and one line per option. */
export function commandHelp(spec: CommandSpec): string {
  const rows: Array<[string, string]> = Object.entries(spec.options)
    .filter(([, o]) => !o.hidden)
    .map(([name, o]) => [`--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`, o.help]);
  rows.push(['-h, --help', HELP_OPTION.help]);
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`);
  return `${wrapUsage(spec.usage, 106, 'usage: ')}\n\n${wrap(spec.description, 106)}\n\n${lines.join('\n')}\n`;
}

/**
 * A usage line broken before a `[` where it gets longer than `width`; the next lines start under the
 * command's first argument.
 */
export function wrapUsage(usage: string, width = 104, indent = ''): string {
  const lead = ' '.repeat(indent.length + usage.split(' ', 2).join(' ').length + 1);
  const lines: string[] = [];
  let rest = usage;
  let first = true;
  while ((first ? indent.length : lead.length) + rest.length > width) {
    const room = width - (first ? indent.length : lead.length);
    const cut = rest.lastIndexOf(' [', room);
    if (cut <= 0) break;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
    first = false;
  }
  lines.push(rest);
  return lines.map((line, i) => (i === 0 ? indent : lead) + line).join('\n');
}

function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

/** What {@link parseCommandLine} found: a request for help, or the command's arguments. */
export type ParsedCommandLine<O extends Record<string, OptionSpec>> =
  | { help: true }
  | ({ help: false } & CommandArgs<O>);

/**
 * Checks a command's arguments against its spec. `--help`/`-h` anywhere before `--` wins over every other
 * problem. Mistakes throw a {@link UsageError} of one line in Mailroom's own words (the caller adds the
 * usage line).
 */
export function parseCommandLine<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  argv: string[],
): ParsedCommandLine<O> {
  // Non-strict: every option comes back as a token, known or not, and the checks below are ours.
  const parseOptions = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [name, { type: o.type, multiple: o.multiple ?? false }]),
  );
  const { tokens } = parseArgs({
    args: argv,
    options: { ...parseOptions, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { help: true };

  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const option = Object.hasOwn(spec.options, token.name) ? spec.options[token.name] : undefined;
    if (!option) {
      const hint = closest(token.name, Object.keys(spec.options));
      throw new UsageError(`unknown option ${token.rawName}${hint ? ` (did you mean --${hint}?)` : ''}`);
    }
    let value: string | boolean;
    if (option.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`option --${token.name} takes no value`);
      value = true;
    } else {
      // parseArgs takes the next argument as the value even when it is another option (`--port --data x`).
      if (token.value === undefined || (!token.inlineValue && /^-./.test(token.value))) {
        throw new UsageError(`option --${token.name} needs a value`);
      }
      value = token.value;
    }
    values[token.name] = option.multiple ? [...((values[token.name] as unknown[]) ?? []), value] : value;
  }
  const { what, min, max } = spec.positionals;
  if (positionals.length < min) throw new UsageError(`give ${what}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
  return { help: false, values: values as OptionValues<O>, positionals };
}

/** The known option nearest to a mistyped one (at most two edits away), for "did you mean". */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
