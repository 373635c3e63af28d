/**
 * Every HTTP feature, one line each, asked in this order; the first that recognises a
 * request answers it. To add a feature: write its module (a RouteModule, see route.ts)
 * and add one line here.
 */
import type { RouteModule } from './route.js';
import { healthzRoute } from './healthz.js';
import { autoconfigRoute } from './autoconfig.js';
import { autodiscoverRoute } from './autodiscover.js';
import { mobileconfigRoute } from './mobileconfig.js';
import { mtaStsRoute } from './mta-sts.js';
import { adminRoute } from './admin-route.js';
import { metricsRouteModule } from './metrics.js';

export const routeModules: RouteModule[] = [
  healthzRoute,
  metricsRouteModule,
  autoconfigRoute,
  autodiscoverRoute,
  mobileconfigRoute,
  mtaStsRoute,
  adminRoute,
];
