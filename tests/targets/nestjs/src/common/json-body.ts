// The body parser's failures in words of our own. Nest hands a body-parser SyntaxError on as a 400 whose
// message is the parser's, and node's JSON.parse message quotes the text it stopped at: the password, as often
// as not. This Express error middleware, mounted right after the JSON parser, replaces every body-parser error
// (they carry a `type`) with an HttpException that quotes nothing.

import { BadRequestException, HttpException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

export const MAX_BODY = '64kb';

const BODY_ERRORS: Record<string, () => HttpException> = {
  'entity.parse.failed': () => new BadRequestException('Body is not valid JSON'),
  'entity.too.large': () => new PayloadTooLargeException('Body is larger than 64 KiB'),
  'encoding.unsupported': () => new UnsupportedMediaTypeException('Unsupported content encoding'),
  'charset.unsupported': () => new UnsupportedMediaTypeException('Unsupported charset'),
  'request.aborted': () => new BadRequestException('Request aborted'),
  'request.size.invalid': () => new BadRequestException('Body length does not match Content-Length'),
};

export function bodyParserErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const type = (err as { type?: unknown })?.type;
  const replacement = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
  next(replacement ? replacement() : err);
}
