/**
 * Realistic synthetic mail for benchmarks: sizes log-uniform from 1 KB to 2 MB,
 * a third carrying the same attachment (the newsletter/company-logo/PDF-to-everyone
 * case that attachment dedup is for). Deterministic sizes from a seeded PRNG.
 */
import { randomBytes } from 'node:crypto';

export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const SHARED_ATTACHMENT = base64Lines(randomBytes(300 * 1024));

function base64Lines(bytes: Buffer): string {
  return bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
}

function textBody(bytes: number, rand: () => number): string {
  const words = ['mail', 'server', 'meeting', 'report', 'quarterly', 'invoice', 'hello', 'thanks', 'project', 'update', 'archive', 'phone'];
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = Array.from({ length: 10 }, () => words[Math.floor(rand() * words.length)]).join(' ');
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join('\r\n');
}

/** The n-th benchmark message (n from 0). */
export function benchMessage(n: number, rand: () => number): Buffer {
  const target = Math.round(1024 * Math.pow(2048, rand())); // 1 KB .. 2 MB, log-uniform
  const shared = n % 3 === 0;
  const headers = [
    `From: Sender ${n % 50} <sender${n % 50}@example.net>`,
    `To: user${n % 10}@bench.test`,
    `Subject: Benchmark message ${n}`,
    `Date: Sat, 21 Nov 2026 10:${String(n % 60).padStart(2, '0')}:00 +0000`,
    `Message-ID: <bench-${n}@example.net>`,
    'MIME-Version: 1.0',
  ];
  if (!shared && target < 8 * 1024) {
    return Buffer.from(`${headers.join('\r\n')}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${textBody(target - 300, rand)}\r\n`);
  }
  const boundary = `b-${n}`;
  const parts = [`Content-Type: text/plain; charset=utf-8\r\n\r\n${textBody(Math.min(4000, target / 4), rand)}\r\n`];
  const attachment = shared ? SHARED_ATTACHMENT : base64Lines(randomBytes(Math.max(1, Math.floor((target * 3) / 4) - 1500)));
  const name = shared ? 'company-handbook.pdf' : `file-${n}.bin`;
  parts.push(`Content-Type: application/octet-stream; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n`);
  const body = parts.map((p) => `--${boundary}\r\n${p}`).join('') + `--${boundary}--\r\n`;
  return Buffer.from(`${headers.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${body}`);
}
