/**
 * `GET /metrics`: the process's Prometheus metrics (src/metrics/registry.ts) in the text
 * exposition format. Served on the HTTP listener, which is loopback by default: expose
 * it wider only behind a firewall or proxy (the figures name no user, but tell load).
 *
 * Never imports: the store, protocols.
 */
import type http from 'node:http';
import { registry } from '../metrics/registry.js';
import type { RouteModule } from './route.js';
import '../metrics/store-gauges.js'; // the queue and storage gauges live in the same registry

/** Answers `/metrics` and returns true, or returns false for any other path. */
export function metricsRoute(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean {
  if (path !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
    return true;
  }
  registry.metrics().then(
    (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
    (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
  );
  return true;
}

/** The same as one of the HTTP listener's routes (routes.ts). */
export const metricsRouteModule: RouteModule = () => (request, res) => metricsRoute(request.req, res, request.url.pathname);
