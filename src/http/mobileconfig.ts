/**
 * Apple configuration profile: `GET /mobileconfig?emailaddress=alice@example.org&protocol=imap|pop3`
 * (IMAP when `protocol` is absent) → `application/x-apple-aspen-config`, signed with the
 * server certificate unless it is self-signed (a device would show a self-signed
 * signature as untrusted, which is worse than "unsigned"). 404 for domains this server
 * does not host or a protocol whose listeners are all off; 400 for bad parameters;
 * 503 when too many signings are under way (ProfileSigner).
 */
import { clientEndpoints, endpointsOf } from '../setup/endpoints.js';
import { addressOrNull, isHosted } from '../setup/hosted-domain.js';
import { appleMailProfile } from '../setup/apple-profile.js';
import { isSelfSigned } from '../setup/certificate.js';
import { ProfileSigner, SignerBusyError } from '../setup/sign-profile.js';
import { isRead, methodNotAllowed, send, type HttpRequest, type RouteModule } from './route.js';
import type { Services } from '../services.js';
import type http from 'node:http';

export const MOBILECONFIG_PATH = '/mobileconfig';
const TEXT = 'text/plain; charset=utf-8';

export const mobileconfigRoute: RouteModule = (services) => {
  const signer = new ProfileSigner();
  return (request, res) => request.url.pathname === MOBILECONFIG_PATH && answerProfile(services, signer, request, res);
};

async function answerProfile(services: Services, signer: ProfileSigner, { req, url }: HttpRequest, res: http.ServerResponse): Promise<true> {
  const answer = (status: number, text: string, headers: http.OutgoingHttpHeaders = {}): true => {
    send(res, status, TEXT, text, headers);
    return true;
  };
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
  let body: Buffer = plist;
  if (!isSelfSigned(cert)) {
    try {
      body = await signer.sign(plist, cert, key);
    } catch (err) {
      if (!(err instanceof SignerBusyError)) throw err;
      return answer(503, `${err.message}; try again in a moment\n`, { 'Retry-After': '5' });
    }
  }
  send(res, 200, 'application/x-apple-aspen-config', body, { 'Content-Disposition': `attachment; filename="${address.domain}-${protocol}.mobileconfig"` });
  return true;
}
