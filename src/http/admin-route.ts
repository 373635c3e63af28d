/** The admin page (./admin/) as one of the HTTP listener's routes: everything under `/admin`. */
import type { RouteModule } from './route.js';
import { adminRoutes, isAdminPath } from './admin/router.js';

export const adminRoute: RouteModule = (services) => {
  const admin = adminRoutes(services);
  return (request, res) => {
    if (!isAdminPath(request.url.pathname)) return false;
    void admin(request.req, res);
    return true;
  };
};
