/**
 * Apple configuration profile: `GET /mobileconfig?emailaddress=alice@example.org&protocol=imap|pop3`
 * (IMAP when `protocol` is absent) → `application/x-apple-aspen-config`, signed with the
 * server certificate unless it is self-signed (a device would show a self-signed
 * signature as untrusted, which is worse than "unsigned"). 404 for domains this server
 * does not host or a protocol whose listeners are all off; 400 for bad parameters.
 */
import { clientEndpoints, endpointsOf } from '../setup/endpoints.js';
import { addressOrNull, isHosted } from '../setup/hosted-domain.js';
import { appleMailProfile } from '../setup/apple-profile.js';
import { isSelfSigned } from '../setup/certificate.js';
import { signProfile } from '../setup/sign-profile.js';
import { isRead, methodNotAllowed, send, type RouteModule } from './route.js';

export const MOBILECONFIG_PATH = '/mobileconfig';
const TEXT = 'text/plain; charset=utf-8';

export const mobileconfigRoute: RouteModule = (services) => async ({ req, url }, res) => {
  if (url.pathname !== MOBILECONFIG_PATH) return false;
  if (!isRead(req)) return methodNotAllowed(res, 'GET, HEAD');
  const address = addressOrNull(url.searchParams.get('emailaddress'));
  const protocol = (url.searchParams.get('protocol') ?? 'imap').toLowerCase();
  if (!address) return answer(400, 'emailaddress is missing or not a mail address\n');
  if (protocol !== 'imap' && protocol !== 'pop3') return answer(400, 'protocol must be imap or pop3\n');
  if (!(await isHosted(services.store, address.domain))) return answer(404, 'no mail service for this domain here\n');
  const endpoints = clientEndpoints(services.config, services.listening);
  const [incoming] = endpointsOf(endpoints, protocol);
  const [outgoing] = endpointsOf(endpoints, 'smtp');
  if (!incoming || !outgoing) return answer(404, `${incoming ? 'submission' : protocol.toUpperCase()} is not offered by this server\n`);
  const plist = Buffer.from(appleMailProfile({ address: address.address, hostname: services.config.hostname, incoming, outgoing }), 'utf8');
  const { cert, key } = services.tls;
  const body = isSelfSigned(cert) ? plist : await signProfile(plist, cert, key);
  send(res, 200, 'application/x-apple-aspen-config', body, { 'Content-Disposition': `attachment; filename="${address.domain}-${protocol}.mobileconfig"` });
  return true;

  function answer(status: number, text: string): true {
    send(res, status, TEXT, text);
    return true;
  }
};
