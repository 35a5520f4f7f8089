// Every error answer in one shape, hapi/Boom's (the one Appmixer answers in):
// {"statusCode":N,"error":"<reason phrase>","message":"…"}, whatever failed: a route, validation, a limit, the
// body parser, no route. A global exception filter writes it.

import { STATUS_CODES } from 'node:http';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';

/** A 429 with the refusing limit's own message and the whole seconds it asks the client to wait. */
export class TooManyRequestsException extends HttpException {
  constructor(
    message: string,
    readonly retryAfter: string | number | undefined,
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}

interface Answer {
  status: number;
  message: string;
  headers: Record<string, string>;
}

function messageOf(response: string | object, status: number): string {
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  // ValidationPipe answers with one message per broken rule.
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return STATUS_CODES[status] ?? 'Error';
}

@Catch()
export class ErrorShapeFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorShapeFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, message, headers } = this.answer(exception);
    res.status(status).set(headers).json({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
  }

  private answer(exception: unknown): Answer {
    if (exception instanceof TooManyRequestsException) {
      const headers: Record<string, string> = {};
      if (exception.retryAfter !== undefined) headers['Retry-After'] = String(exception.retryAfter);
      return { status: 429, message: exception.message, headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, message: messageOf(exception.getResponse(), status), headers: {} };
    }
    // http-errors from the platform (a status, and a message that never carries the body).
    const status = (exception as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { status, message: STATUS_CODES[status] ?? 'Bad request', headers: {} };
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return { status: 500, message: 'An internal server error occurred', headers: {} };
  }
}
