// Nest's ConsoleLogger writes everything but errors to stdout. The first line on stdout must be the
// "listening on" line (whoever starts the server reads it), so every log line goes to stderr instead.

import { ConsoleLogger, LogLevel } from '@nestjs/common';

export class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack);
  }
}
