/**
 * THREAD=REFS (draft-ietf-morg-inthread, as Dovecot and Cyrus offer it): the REFERENCES
 * tree without step 5 (no gathering by subject), threads ordered by their latest message
 * so the thread with the newest mail comes last. Ties follow Dovecot 2.3 (recorded in
 * test/fixtures/sort/dovecot.json): the root's number, a dummy root counting as 0 even when
 * its single child replaces it, then the thread's lowest number.
 */
import { prune, rootSet, sortTree, toNode, type Container, type ThreadFacts, type ThreadNode } from './thread.js';

interface Ordered {
  node: ThreadNode;
  latest: number;
  rootId: number;
  lowest: number;
}

function facts(c: Container, out: ThreadFacts[] = []): ThreadFacts[] {
  if (c.msg) out.push(c.msg);
  for (const k of c.children) facts(k, out);
  return out;
}

export function threadRefs(messages: readonly ThreadFacts[]): ThreadNode[] {
  const ordered: Ordered[] = [];
  for (const root of rootSet(messages)) {
    const all = facts(root);
    if (all.length === 0) continue;
    const key = { latest: Math.max(...all.map((m) => m.sentDate)), rootId: root.msg?.id ?? 0, lowest: Math.min(...all.map((m) => m.id)) };
    // Pruned per root, so what replaces a root keeps the root's key
    for (const c of prune([root], true)) ordered.push({ node: toNode(c), ...key });
  }
  ordered.sort((a, b) => a.latest - b.latest || a.rootId - b.rootId || a.lowest - b.lowest);
  const nodes = ordered.map((o) => o.node);
  for (const n of nodes) sortTree(n.children); // siblings by sent date, as REFERENCES
  return nodes;
}
