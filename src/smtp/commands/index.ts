/**
 * The command table: verb → handler, with the listener modes that know it
 * (HELO/EHLO are not LMTP words, LHLO is only LMTP, RFC 2033 4.1; AUTH is only
 * for submission; STARTTLS not on LMTP). A verb not in the table, or not for this
 * mode, gets 500 5.5.2 from the session.
 */
import type { SmtpMode, SmtpSession } from '../session.js';
import { ehlo, helo, lhlo } from './hello.js';
import { mail } from './mail.js';
import { rcpt } from './rcpt.js';
import { bdat, data } from './data.js';
import { burl } from './burl.js';
import { auth } from './auth.js';
import { starttls } from './starttls.js';
import { expn, help, noop, quit, rset, vrfy } from './simple.js';

export interface SmtpCommand {
  /** Listener modes that accept the verb; all when absent. */
  modes?: SmtpMode[];
  run(s: SmtpSession, args: string): Promise<void>;
}

export const COMMANDS: Record<string, SmtpCommand> = {
  HELO: { modes: ['mx', 'submission'], run: helo },
  EHLO: { modes: ['mx', 'submission'], run: ehlo },
  LHLO: { modes: ['lmtp'], run: lhlo },
  MAIL: { run: mail },
  RCPT: { run: rcpt },
  DATA: { run: data },
  BDAT: { run: bdat },
  BURL: { modes: ['submission'], run: burl },
  AUTH: { modes: ['submission'], run: auth },
  STARTTLS: { modes: ['mx', 'submission'], run: starttls },
  RSET: { run: rset },
  NOOP: { run: noop },
  QUIT: { run: quit },
  VRFY: { run: vrfy },
  EXPN: { run: expn },
  HELP: { run: help },
};
