/**
 * Thunderbird autoconfig: `GET /mail/config-v1.1.xml?emailaddress=…` (asked of
 * `autoconfig.DOMAIN`) and `GET /.well-known/autoconfig/mail/config-v1.1.xml` (asked of
 * the domain itself). The domain comes from `emailaddress`, else from the Host; 404 for
 * domains this server does not host, 400 for an address that is not one.
 */
import { clientEndpoints } from '../setup/endpoints.js';
import { addressOrNull, domainFromHost, isHosted } from '../setup/hosted-domain.js';
import { thunderbirdConfig } from '../setup/thunderbird.js';
import { normaliseDomain } from '../mail/address.js';
import { isRead, methodNotAllowed, send, type RouteModule } from './route.js';

const PATHS = new Set(['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml']);
const TEXT = 'text/plain; charset=utf-8';

export const autoconfigRoute: RouteModule = (services) => async ({ req, url, host }, res) => {
  if (!PATHS.has(url.pathname)) return false;
  if (!isRead(req)) return methodNotAllowed(res, 'GET, HEAD');
  const given = url.searchParams.get('emailaddress');
  const address = addressOrNull(given);
  if (given !== null && !address) {
    send(res, 400, TEXT, 'emailaddress is not a mail address\n');
    return true;
  }
  const domain = address?.domain ?? domainFromHost(host, ['autoconfig']) ?? hostAsDomain(host);
  if (!domain || !(await isHosted(services.store, domain))) {
    send(res, 404, TEXT, 'no mail service for this domain here\n');
    return true;
  }
  send(res, 200, 'application/xml; charset=utf-8', thunderbirdConfig(domain, clientEndpoints(services.config, services.listening)));
  return true;
};

function hostAsDomain(host: string): string | null {
  try {
    return host ? normaliseDomain(host) : null;
  } catch {
    return null;
  }
}
