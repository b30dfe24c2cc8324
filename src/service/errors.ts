/** The one error handler: every failure becomes `{error:{code,message}}` with the code's HTTP status. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import multer from 'multer';
import { FindthisError, isFindthisError } from '../core/errors.js';
import type { ErrorResponse } from './schemas.js';

/** Multer's limit errors, in the error table's words. */
export function fromUploadError(error: unknown, uploadLimitBytes: number): FindthisError {
  if (error instanceof multer.MulterError) {
    if (error.code === 'LIMIT_FILE_SIZE') {
      return new FindthisError('FILE_TOO_LARGE', `Expected an upload of at most ${uploadLimitBytes} bytes, but got more`);
    }
    const field = error.field ? ` (field ${error.field})` : '';
    return new FindthisError('INVALID_FIELD', `Malformed upload: ${error.message}${field}; expected one file in field "image"`);
  }
  if (isFindthisError(error)) return error;
  return new FindthisError('INVALID_FIELD', `Malformed multipart body: ${(error as Error).message}`, { cause: error });
}

export function notFound(): RequestHandler {
  return (req, _res, next) => next(new FindthisError('NOT_FOUND', `No route ${req.method} ${req.path}`));
}

/** Failures become their code's status and body; unexpected ones are logged with their stack on the request's logger. */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = isFindthisError(error) ? error : fromFrameworkError(error);
    if (known.status >= 500 && !['NOT_READY', 'OVERLOADED', 'BUDGET_EXCEEDED'].includes(known.code)) {
      req.log.error({ code: known.code, err: error }, `${req.method} ${req.path} failed`);
    }
    const body: ErrorResponse = { error: { code: known.code, message: known.message, requestId: String(req.id) } };
    res.status(known.status).json(body);
  };
}

/**
 * Express and its parsers reject some requests before a route runs (a malformed `%` escape in the
 * path, for one) with an error carrying a 4xx `status`: that is the client's mistake, a 400.
 */
function fromFrameworkError(error: unknown): FindthisError {
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new FindthisError('INVALID_FIELD', `Malformed request: ${(error as Error).message}`, { cause: error });
  }
  return new FindthisError('INTERNAL', 'An unexpected error occurred; see the service log', { cause: error });
}
