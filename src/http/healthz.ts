/** `GET /healthz` → 200 `ok`: for load balancers and process supervisors. */
import type { RouteModule } from './route.js';
import { isRead, send } from './route.js';

export const healthzRoute: RouteModule = () => (request, res) => {
  if (request.url.pathname !== '/healthz' || !isRead(request.req)) return false;
  send(res, 200, 'text/plain', 'ok\n');
  return true;
};
