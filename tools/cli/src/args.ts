/**
 * The CLI's argument parsing: `node:util` `parseArgs` over one command's arguments, plus the CLI's own rules on
 * top: an option that takes a value needs one (`--project --source x` is a missing value, as `--name=--x` is
 * not), every string option is collected as a list so a command can tell "given twice" from "given once", and
 * what the command does not know (unknown options, other arguments) is handed back in command-line order for the
 * command's own usage error, or for a second parse by a subcommand.
 */
import { parseArgs } from 'node:util';

/** A command's options: each a flag or an option with a value. */
export type OptionTypes = Readonly<Record<string, 'boolean' | 'string'>>;

export interface ParsedCommand {
  /** Arguments that are not options, in order (also those after `--`). */
  readonly positionals: readonly string[];
  /** Options the command does not know, as typed (`--foo`, `--foo=1`, `-x`), and a flag given a value. */
  readonly unknown: readonly string[];
  /**
   * The arguments not consumed as known options, in command-line order and as typed: `unknown`, `positionals` and
   * a `--` terminator. A subcommand parses these again with its own options.
   */
  readonly rest: readonly string[];
  /** Whether the flag `--name` was given. */
  flag(name: string): boolean;
  /** Every value of `--name`, in order. */
  values(name: string): readonly string[];
}

/** Parses `args` against `options`; throws `usage("--name needs a value")` for an option without its value. */
export function parseCommand(
  args: readonly string[],
  options: OptionTypes,
  usage: (message: string) => Error,
): ParsedCommand {
  const { tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(
      Object.entries(options).map(([name, type]) => [name, { type, multiple: type === 'string' }]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags = new Set<string>();
  const strings = new Map<string, string[]>();
  const positionals: string[] = [];
  const unknown: string[] = [];
  const rest: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      rest.push(token.value);
    } else if (token.kind === 'option-terminator') {
      rest.push('--');
    } else {
      const type = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
      if (type === 'string') {
        if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
          throw usage(`${token.rawName} needs a value`);
        }
        strings.set(token.name, [...(strings.get(token.name) ?? []), token.value]);
      } else if (type === 'boolean' && token.value === undefined) {
        flags.add(token.name);
      } else {
        const raw = token.value === undefined ? token.rawName : `${token.rawName}=${token.value}`;
        unknown.push(raw);
        rest.push(raw);
      }
    }
  }
  return {
    positionals,
    unknown,
    rest,
    flag: (name) => flags.has(name),
    values: (name) => strings.get(name) ?? [],
  };
}

/** The one value of `--name`, if given; `usage("--name may be given once")` when it was given more than once. */
export function once(
  parsed: ParsedCommand,
  name: string,
  usage: (message: string) => Error,
): string | undefined {
  const values = parsed.values(name);
  if (values.length > 1) throw usage(`--${name} may be given once`);
  return values[0];
}
