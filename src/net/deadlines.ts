/**
 * The slowloris bounds of the `limits` config section as Connection options (seconds to
 * milliseconds), so every protocol session applies the same ones.
 */
import type { ConnectionOptions } from './connection.js';

export interface DeadlineSettings {
  line_timeout_s: number;
  payload_timeout_s: number;
  tls_handshake_timeout_s: number;
}

export function deadlineOptions(limits: DeadlineSettings): Pick<ConnectionOptions, 'lineTimeoutMs' | 'payloadTimeoutMs' | 'handshakeTimeoutMs'> {
  return { lineTimeoutMs: limits.line_timeout_s * 1000, payloadTimeoutMs: limits.payload_timeout_s * 1000, handshakeTimeoutMs: limits.tls_handshake_timeout_s * 1000 };
}
