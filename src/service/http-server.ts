/**
 * The Node HTTP server around the express app, with limits on what a client may hold: how long its
 * headers and its whole request may take, how many connections may be open, how long and how often
 * an idle keep-alive connection is kept. Node's defaults (a 300 s request timeout, no connection cap)
 * let slow or lying clients keep sockets and memory for minutes. Errors Node's own HTTP layer answers
 * (before any route runs) are answered in the same JSON shape as every other error.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestListener } from 'node:http';
import { ERRORS, type ErrorCode } from '../core/errors.js';
import type { ServerConfig } from '../config/schema.js';
import type { ErrorResponse } from './schemas.js';
import { requestIdFrom } from './request-log.js';

export type ConnectionLimits = Pick<
  ServerConfig,
  'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxRequestsPerSocket' | 'maxConnections' | 'maxHeaderBytes'
>;

/** Creates the server (not yet listening) with `limits` applied and JSON answers for client errors. */
export function createHttpServer(app: RequestListener, limits: ConnectionLimits): Server {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above on this interval (default 30 s, which would stretch a 15 s limit to 45 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    app,
  );
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, limits));
  return server;
}

/** Listens on `port`/`host`; resolves once listening. */
export function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    server.once('listening', () => resolvePromise(server));
    server.once('error', reject);
    server.listen(port, host);
  });
}

/** What Node's parser or its timeouts reported, in the error table's words. */
export function clientErrorCode(error: NodeJS.ErrnoException): ErrorCode {
  if (error.code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE';
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_HEADERS_TIMEOUT') return 'CLIENT_TIMEOUT';
  return 'MALFORMED_REQUEST';
}

function clientErrorMessage(code: ErrorCode, error: NodeJS.ErrnoException, limits: ConnectionLimits): string {
  if (code === 'HEADERS_TOO_LARGE') return `The request line and headers exceed ${limits.maxHeaderBytes} bytes`;
  if (code === 'CLIENT_TIMEOUT') {
    return `The request was not received in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`;
  }
  const reason = (error as { reason?: unknown }).reason;
  return `Malformed HTTP request (${typeof reason === 'string' ? reason : error.message})`;
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket, limits: ConnectionLimits): void {
  // A reset connection, or one a response has already started on, cannot take an answer.
  if (error.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const code = clientErrorCode(error);
  const status = ERRORS[code].status;
  // No request was parsed, so no caller id can be taken: a fresh one still lets the answer be quoted.
  const requestId = requestIdFrom(undefined);
  const body = JSON.stringify({ error: { code, message: clientErrorMessage(code, error, limits), requestId } } satisfies ErrorResponse);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
