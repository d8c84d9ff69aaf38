/**
 * Nest logger writing one JSON object per line to stdout, so log collectors need no parsing rules.
 * Shape: `{"time":"...","level":"info","service":"agent","context":"NestApplication","msg":"..."}`;
 * errors add `stack` when Nest passes one.
 */
import type { LoggerService } from '@nestjs/common';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';

export class JsonLogger implements LoggerService {
  constructor(
    private readonly service: string,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  log(message: unknown, ...params: unknown[]): void {
    this.emit('info', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.emit('fatal', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.emit('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.emit('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.emit('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.emit('verbose', message, params);
  }

  /** Writes a structured event, e.g. `{ event: 'ready', port }`, with the service name first. */
  event(fields: Record<string, unknown>): void {
    this.write(`${JSON.stringify({ service: this.service, ...fields })}\n`);
  }

  /** A structured event with a time and a level: `{ time, level, service, ...fields }`. */
  eventAt(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>): void {
    this.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, service: this.service, ...fields })}\n`,
    );
  }

  private emit(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    // Nest passes the context last; error() may pass a stack before it.
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const stack =
      level === 'error' || level === 'fatal' ? rest.find((p) => typeof p === 'string') : undefined;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, service: this.service };
    if (context !== undefined) line['context'] = context;
    if (message instanceof Error) {
      line['msg'] = message.message;
      line['stack'] = message.stack;
    } else {
      line['msg'] = message;
    }
    if (stack !== undefined) line['stack'] = stack;
    this.write(`${JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  }
}
