/**
 * The admin page (./admin/) as one of the HTTP listener's routes: everything under `/admin`.
 * Built on the first admin request, so a listener that never serves one needs nothing of it.
 */
import type http from 'node:http';
import type { RouteModule } from './route.js';
import { adminRoutes, isAdminPath } from './admin/router.js';

export const adminRoute: RouteModule = (services) => {
  let admin: http.RequestListener | undefined;
  return (request, res) => {
    if (!isAdminPath(request.url.pathname)) return false;
    admin ??= adminRoutes(services);
    void admin(request.req, res);
    return true;
  };
};
