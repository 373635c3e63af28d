/**
 * Outlook Autodiscover: `POST /autodiscover/autodiscover.xml` (the POX schema, see
 * src/setup/autodiscover.ts) and `GET /autodiscover/autodiscover.json` v1.0, which only
 * points AutodiscoverV1 clients at the XML endpoint (other protocols, such as
 * ActiveSync or EWS, are not served: 400). Paths are matched without regard to case,
 * as Outlook spells them both ways.
 */
import { clientEndpoints } from '../setup/endpoints.js';
import { addressOrNull, isHosted } from '../setup/hosted-domain.js';
import { AutodiscoverRequestError, autodiscoverError, autodiscoverResponse, parseAutodiscoverRequest } from '../setup/autodiscover.js';
import { methodNotAllowed, readBody, send, type HttpRequest, type RouteModule } from './route.js';
import type { Services } from '../services.js';
import type http from 'node:http';

const XML_PATH = '/autodiscover/autodiscover.xml';
const JSON_PATH = '/autodiscover/autodiscover.json';
const XML = 'text/xml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_REQUEST = 64 * 1024;

export const autodiscoverRoute: RouteModule = (services) => async (request, res) => {
  const path = request.url.pathname.toLowerCase();
  if (path === XML_PATH) return answerXml(services, request, res);
  if (path === JSON_PATH || path.startsWith(`${JSON_PATH}/`)) return answerJson(services, request, res);
  return false;
};

async function answerXml(services: Services, { req }: HttpRequest, res: http.ServerResponse): Promise<true> {
  if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
  const body = await readBody(req, MAX_REQUEST);
  if (body === null) {
    send(res, 413, XML, autodiscoverError(600, `request larger than ${MAX_REQUEST} bytes`), { Connection: 'close' });
    return true;
  }
  let email: string;
  try {
    email = parseAutodiscoverRequest(body.toString('utf8'));
  } catch (err) {
    if (!(err instanceof AutodiscoverRequestError)) throw err;
    send(res, 400, XML, autodiscoverError(err.message.startsWith('only the response schema') ? 601 : 600, err.message));
    return true;
  }
  const address = addressOrNull(email);
  if (!address) {
    send(res, 400, XML, autodiscoverError(600, 'EMailAddress is not a mail address'));
    return true;
  }
  if (!(await isHosted(services.store, address.domain))) {
    send(res, 404, XML, autodiscoverError(500, 'no mail service for this domain here'));
    return true;
  }
  send(res, 200, XML, autodiscoverResponse(address.address, address.address, clientEndpoints(services.config, services.listening)));
  return true;
}

async function answerJson(services: Services, { req, url, host }: HttpRequest, res: http.ServerResponse): Promise<true> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
  const params = new Map([...url.searchParams].map(([k, v]) => [k.toLowerCase(), v]));
  // v1.0 names the address in the path (…/autodiscover.json/v1.0/alice@example.org) or as ?Email=.
  const inPath = /^\/autodiscover\/autodiscover\.json\/v1\.0\/([^/]+)$/i.exec(url.pathname)?.[1];
  const email = inPath !== undefined ? decodeURIComponent(inPath) : params.get('email');
  const protocol = params.get('protocol') ?? '';
  const fail = (status: number, code: string, message: string) => {
    send(res, status, JSON_TYPE, `${JSON.stringify({ ErrorCode: code, ErrorMessage: message })}\n`);
    return true as const;
  };
  if (protocol.toLowerCase() !== 'autodiscoverv1') return fail(400, 'InvalidProtocol', `The given protocol value '${protocol}' is invalid. Supported values are 'AutodiscoverV1'.`);
  const address = addressOrNull(email);
  if (!address) return fail(400, 'InvalidRequest', 'Email (or the address after /v1.0/) is missing or not a mail address.');
  if (!(await isHosted(services.store, address.domain))) return fail(404, 'MailboxNotFound', 'No mail service for this domain here.');
  // Outlook fetches the XML over HTTPS only: the listener sits behind a TLS proxy on the name it was asked by.
  const url2 = `https://${host || services.config.hostname}${XML_PATH}`;
  send(res, 200, JSON_TYPE, `${JSON.stringify({ Protocol: 'AutodiscoverV1', Url: url2 })}\n`);
  return true;
}
