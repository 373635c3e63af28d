/**
 * The MTA-STS policy file (RFC 8461 3.2): `GET /.well-known/mta-sts.txt` asked of
 * `mta-sts.DOMAIN` for a hosted DOMAIN. Other hosts: not recognised (404).
 */
import { domainFromHost, isHosted } from '../setup/hosted-domain.js';
import { mtaStsPolicy } from '../setup/mta-sts.js';
import { isRead, methodNotAllowed, send, type RouteModule } from './route.js';

export const mtaStsRoute: RouteModule = (services) => async ({ req, url, host }, res) => {
  if (url.pathname !== '/.well-known/mta-sts.txt') return false;
  const domain = domainFromHost(host, ['mta-sts']);
  if (!domain || !(await isHosted(services.store, domain))) return false;
  if (!isRead(req)) return methodNotAllowed(res, 'GET, HEAD');
  send(res, 200, 'text/plain; charset=utf-8', mtaStsPolicy(services.config.hostname, services.tls.cert).text);
  return true;
};
