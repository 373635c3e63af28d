/** What an admin page is: how it renders, and the form actions it answers (POST `path/action`). */
import type { Services } from '../../../services.js';
import type { AdminSession } from '../sessions.js';
import type { Html } from '../html.js';

export interface AdminContext {
  services: Services;
  session: AdminSession;
}

/** What an action did, said on the page it returns to (`to`, default the page itself). */
export interface ActionResult {
  flash: string;
  to?: string;
}

export interface AdminPage {
  path: string;
  title: string;
  render(ctx: AdminContext, query: URLSearchParams): Promise<Html>;
  /** Form actions by name; an Error's message is shown as the page's error. */
  actions?: Record<string, (ctx: AdminContext, form: URLSearchParams) => Promise<ActionResult>>;
  /** Where a failed action returns to (default `path`): a page that needs a query says which. */
  back?: (form: URLSearchParams) => string;
}

/** A required form field, trimmed; a clear message when it is missing. */
export function field(form: URLSearchParams, name: string): string {
  const v = form.get(name)?.trim() ?? '';
  if (v === '') throw new Error(`${name} is required`);
  return v;
}

export function when(d: Date | null | undefined): string {
  return d ? d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '-';
}
