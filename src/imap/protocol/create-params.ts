/**
 * CREATE's parameters (RFC 4466 2.2): `CREATE name (USE (\Sent))` of CREATE-SPECIAL-USE
 * (RFC 6154 3). The only parameter known is USE; anything else is BAD.
 */
import type { ArgReader } from './arg-reader.js';

export interface CreateParams {
  /** The special-use attributes asked for, as written (an empty USE () asks for none). */
  use: string[];
}

/** After the mailbox name: nothing, or SP "(" create-param *(SP create-param) ")". */
export function parseCreateParams(args: ArgReader): CreateParams {
  const use: string[] = [];
  if (!args.optionalSp()) return { use };
  let seen = false;
  args.list(
    (r) => {
      const name = r.atom('CREATE parameter').toUpperCase();
      if (name !== 'USE' || seen) throw r.error(`Unknown or repeated CREATE parameter ${name.slice(0, 20)}`);
      seen = true;
      r.sp('after USE');
      use.push(...r.list((x) => {
        if (x.peekByte() !== 0x5c) throw x.error('A special-use attribute starts with "\\"');
        x.accept('\\');
        return `\\${x.atom('special-use attribute')}`;
      }, { allowEmpty: true, what: 'special-use attributes' }));
      return name;
    },
    { what: 'CREATE parameters' },
  );
  return { use };
}
