/**
 * RFC 5256 THREAD=ORDEREDSUBJECT (section 3) and THREAD=REFERENCES (the JWZ algorithm,
 * steps 1-6), over plain per-message facts so both are table-testable without a store.
 */
import { collationKey, compareOctets, extractSubject } from './base-subject.js';
import type { ThreadIds } from '../../store/thread-ids.js';

export { parseMessageIds, threadIdsOf } from '../../store/thread-ids.js';

/** One message: its msg-id and parent chain as store/thread-ids.ts reduces them (the store keeps them per content), its subject decoded. */
export interface ThreadFacts extends ThreadIds {
  /** The number shown (sequence number or UID); also the final tie-break, as mailbox order. */
  id: number;
  /** RFC 5256: the Date: header, else INTERNALDATE (ms). */
  sentDate: number;
}

/** A thread node; `msg` null is a dummy (a referenced message not in the set). */
export interface ThreadNode {
  msg: ThreadFacts | null;
  children: ThreadNode[];
}

/** Sorts siblings by sent date, a dummy by its (sorted) first child's, ties by mailbox order. */
export function sortTree(nodes: ThreadNode[]): void {
  for (const n of nodes) sortTree(n.children);
  const first = (n: ThreadNode): ThreadFacts | null => n.msg ?? (n.children[0] ? first(n.children[0]) : null);
  nodes.sort((a, b) => {
    const x = first(a);
    const y = first(b);
    if (!x || !y) return 0;
    return x.sentDate - y.sentDate || x.id - y.id;
  });
}

const baseKey = (subject: string) => collationKey(extractSubject(subject).base);

/** RFC 5256 3 ORDEREDSUBJECT: groups by base subject, the earliest message first, the rest its children. */
export function threadOrderedSubject(messages: readonly ThreadFacts[]): ThreadNode[] {
  const sorted = [...messages].sort((a, b) => compareOctets(baseKey(a.subject), baseKey(b.subject)) || a.sentDate - b.sentDate || a.id - b.id);
  const roots: ThreadNode[] = [];
  let key: string | null = null;
  for (const m of sorted) {
    const k = baseKey(m.subject);
    if (key === k && roots.length) roots[roots.length - 1].children.push({ msg: m, children: [] });
    else roots.push({ msg: m, children: [] });
    key = k;
  }
  roots.sort((a, b) => a.msg!.sentDate - b.msg!.sentDate || a.msg!.id - b.msg!.id);
  return roots;
}

export interface Container {
  msg: ThreadFacts | null;
  parent: Container | null;
  children: Container[];
}

function isAncestor(a: Container, of: Container): boolean {
  for (let p: Container | null = of; p; p = p.parent) if (p === a) return true;
  return false;
}

function unlink(c: Container): void {
  if (!c.parent) return;
  const siblings = c.parent.children;
  siblings.splice(siblings.indexOf(c), 1);
  c.parent = null;
}

function link(parent: Container, child: Container): void {
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
}

/** Steps 1 and 2 of RFC 5256 REFERENCES (shared with REFS): containers linked along each References chain; the roots. */
export function rootSet(messages: readonly ThreadFacts[]): Container[] {
  // step 1: containers by msg-id, linked along each References chain
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const containerOf = (id: string): Container => {
    let c = byId.get(id);
    if (!c) {
      c = { msg: null, parent: null, children: [] };
      byId.set(id, c);
      all.push(c);
    }
    return c;
  };
  for (const m of messages) {
    const id = m.messageId;
    let own: Container;
    if (id !== null && byId.has(id) && byId.get(id)!.msg === null) own = byId.get(id)!;
    else if (id !== null && !byId.has(id)) own = containerOf(id);
    else {
      own = { msg: null, parent: null, children: [] }; // no or duplicate Message-ID: a unique one
      all.push(own);
    }
    own.msg = m;
    let prev: Container | null = null;
    for (const r of m.parents) {
      const c = containerOf(r);
      // 1A: keep existing links; never a loop
      if (prev && !c.parent && c !== prev && !isAncestor(c, prev)) link(prev, c);
      prev = c;
    }
    // 1B: the last reference is the parent, replacing any earlier guess; none without references
    if (prev && prev !== own && !isAncestor(own, prev)) link(prev, own);
    else if (!prev) unlink(own);
  }
  // step 2: the root set
  return all.filter((c) => c.parent === null);
}

/** Step 4: empty dummies go; a dummy's children take its place unless it is a root with several. */
export function prune(list: Container[], atRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    c.children = prune(c.children, false);
    for (const k of c.children) k.parent = c;
    if (c.msg === null && c.children.length === 0) continue;
    if (c.msg === null && (!atRoot || c.children.length === 1)) {
      for (const k of c.children) k.parent = atRoot ? null : c.parent;
      out.push(...c.children);
      continue;
    }
    out.push(c);
  }
  return out;
}

/** RFC 5256 3 REFERENCES. */
export function threadReferences(messages: readonly ThreadFacts[]): ThreadNode[] {
  const roots = prune(rootSet(messages), true);
  // step 5: gather the root set by base subject
  const subjectOf = (c: Container): string | null => (c.msg ?? c.children[0]?.msg)?.subject ?? null;
  const table = new Map<string, Container>();
  const replyOf = (c: Container) => c.msg !== null && extractSubject(c.msg.subject).isReply;
  for (const c of roots) {
    const subj = subjectOf(c);
    if (subj === null) continue;
    const key = collationKey(extractSubject(subj).base);
    if (key === '') continue;
    const old = table.get(key);
    if (!old || (c.msg === null && old.msg !== null) || (old.msg !== null && c.msg !== null && replyOf(old) && !replyOf(c))) table.set(key, c);
  }
  const removed = new Set<Container>();
  const extra: Container[] = [];
  for (const c of roots) {
    const subj = subjectOf(c);
    if (subj === null) continue;
    const key = collationKey(extractSubject(subj).base);
    const t = table.get(key);
    if (key === '' || !t || t === c) continue;
    removed.add(c);
    if (t.msg === null && c.msg === null) {
      for (const k of c.children) t.children.push(k);
    } else if (t.msg === null || c.msg === null) {
      const [dummy, real] = t.msg === null ? [t, c] : [c, t];
      dummy.children.push(real);
      if (dummy === c) {
        removed.add(t);
        removed.delete(c);
        table.set(key, c);
      }
    } else if (!replyOf(t) && replyOf(c)) {
      t.children.push(c);
    } else {
      const dummy: Container = { msg: null, parent: null, children: [t, c] };
      removed.add(t);
      extra.push(dummy);
      table.set(key, dummy);
    }
  }
  const finalRoots = [...roots, ...extra].filter((c) => !removed.has(c));
  // step 6: sort siblings by sent date
  const nodes = finalRoots.map(toNode);
  sortTree(nodes);
  return nodes;
}

export const toNode = (c: Container): ThreadNode => ({ msg: c.msg, children: c.children.map(toNode) });

/** The THREAD response data: `(1 2 (3)(4))(5)`; a dummy shows only its children. */
export function formatThreads(roots: readonly ThreadNode[]): string {
  const inner = (n: ThreadNode): string => {
    const parts: string[] = n.msg ? [String(n.msg.id)] : [];
    if (n.children.length === 1 && n.msg) parts.push(inner(n.children[0]));
    else if (n.children.length > 0) parts.push(n.children.map((c) => `(${inner(c)})`).join(''));
    return parts.join(' ');
  };
  return roots.map((r) => `(${inner(r)})`).join('');
}
