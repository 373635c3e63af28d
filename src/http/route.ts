/**
 * What one HTTP feature module provides: a route, built once from the services, that
 * answers the requests it recognises and returns false for the others (the router then
 * asks the next one; nobody → 404). Small helpers every route uses live here too.
 */
import type http from 'node:http';
import type { Services } from '../services.js';

export interface HttpRequest {
  req: http.IncomingMessage;
  /** The request target, parsed against the Host header. */
  url: URL;
  /** The Host header's name, lower-cased, without port or trailing dot ('' when absent). */
  host: string;
}

/** true when the route answered (or will answer) the request. */
export type Route = (request: HttpRequest, res: http.ServerResponse) => boolean | Promise<boolean>;

/** A feature module: builds its route from what the server offers. */
export type RouteModule = (services: Services) => Route;

/** Answers with `body` and its length; HEAD gets the headers only. */
export function send(res: http.ServerResponse, status: number, contentType: string, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length, 'Cache-Control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

export function isRead(req: http.IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

/** 405 naming the methods that work on this path. */
export function methodNotAllowed(res: http.ServerResponse, allow: string): true {
  send(res, 405, 'text/plain; charset=utf-8', `method not allowed; use ${allow}\n`, { Allow: allow });
  return true;
}

/** Reads a request body up to `limit` bytes; null when it is longer (the caller answers 413). */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
