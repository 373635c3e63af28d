/**
 * Server-rendered HTML with escaping by construction: `html\`…\`` escapes every
 * interpolated value unless it is already Html (made by `html` itself), so a user name,
 * device name or queue error from the outside can never become markup.
 */

/** Markup that is safe to send: only `html` and `raw` make it. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text as HTML text or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/** The template tag: literal parts are markup, every value is escaped (arrays are joined, null/undefined/false are nothing). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Markup written in this code base, never data (e.g. a constant fragment). */
export function raw(markup: string): Html {
  return new Html(markup);
}
