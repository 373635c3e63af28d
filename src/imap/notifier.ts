/**
 * NOTIFY (RFC 5465) at run time: one per session after `NOTIFY SET`. It listens on the
 * change bus and tells the client, whenever no command is running (or during IDLE), what
 * changed, by comparing what it last told with a fresh read rather than trusting the
 * doorbell's details: a lost or coalesced event (RECHECK from another process) costs a
 * re-read, never a wrong notification.
 *  - the selected mailbox (SELECTED / SELECTED-DELAYED): the view's pending EXISTS, EXPUNGE
 *    (not with -DELAYED outside IDLE) and FETCH FLAGS; then a FETCH with MessageNew's
 *    attributes for the messages new since the last one told;
 *  - other mailboxes: `* STATUS` when MESSAGES/UIDNEXT/UIDVALIDITY (and UNSEEN with
 *    FlagChange) differ from the last one sent, so another member's private \Seen, which
 *    changes nothing this viewer counts, is no event;
 *  - MailboxName: `* LIST` for a created, deleted (\NonExistent) or renamed (OLDNAME) mailbox;
 *  - SubscriptionChange: `* LIST` with or without \Subscribed.
 * Another user's mailboxes (RFC 4314 sharing) count where a filter names them: SELECTED,
 * SUBSCRIBED, MAILBOXES and SUBTREE, never PERSONAL or INBOXES (RFC 5465 6: those are the
 * personal namespace). Their changes ring on the owner's channel, so the notifier listens on
 * each such owner's channel too; STATUS needs the `r` right, MailboxName the `l` right.
 * More untold changes than MAX_PENDING while the client does not read: NOTIFICATIONOVERFLOW
 * and NOTIFY is off (RFC 5465 5.8).
 */
import type { ChangeEvent } from '../store/bus.js';
import type { Id, Mailbox } from '../store/types.js';
import { formatMailbox, parseCommand, type NotifyEvent, type NotifyGroup } from './protocol/index.js';
import { isSharedNamespaceName, sharedName } from './mailbox-access.js';
import { statusLine } from './commands/status.js';
import { fetch } from './commands/fetch.js';
import type { MailboxView } from './selected.js';
import type { ImapSession } from './session.js';

export const MAX_PENDING = 1000;

export class Notifier {
  /** Mailbox id → name, as the client was last told. */
  private names = new Map<Id, string>();
  private subscriptions = new Set<string>();
  /** Mailbox id → the last STATUS line sent (or the baseline it would have been). */
  private statusTold = new Map<Id, string>();
  private dirtyBoxes = new Set<Id>();
  private dirtyNames = false;
  private dirtySubscriptions = false;
  private dirtySelected = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;
  private stopped = false;
  /** The view MessageNew's FETCH was last sent for, and the highest UID it covered. */
  private fetchView: MailboxView | null = null;
  private fetchedUpTo = 0;
  /**
   * Other users' mailboxes this user may see (once a SUBSCRIBED, MAILBOXES or SUBTREE filter
   * could take one): id → name and rights as he sees them. All, not only those a filter takes,
   * so a rename into or out of a filter is told with OLDNAME as for his own.
   */
  private shared = new Map<Id, { name: string; rights: string; ownerId: Id }>();
  private dirtyShared = false;
  /** Owner id → unsubscribe, for the owners of `shared` and of the selected mailbox. */
  private ownerChannels = new Map<Id, () => void>();

  private constructor(
    private readonly s: ImapSession,
    readonly groups: readonly NotifyGroup[],
  ) {
    this.unsubscribe = s.services.bus.subscribe(s.user().id, (e) => this.onEvent(e));
  }

  /** Starts notifying; with `status`, returns the `* STATUS` lines RFC 5465 3.1 asks for at once. */
  static async start(s: ImapSession, groups: readonly NotifyGroup[], status: boolean): Promise<{ notifier: Notifier; lines: string[] }> {
    const n = new Notifier(s, groups);
    const lines: string[] = [];
    try {
      const store = s.services.store;
      const userId = s.user().id;
      n.subscriptions = new Set(await store.listSubscriptions(userId));
      for (const box of await store.listMailboxes(userId)) {
        n.names.set(box.id, box.name);
        const line = await n.statusFor(box);
        if (line === null) continue;
        n.statusTold.set(box.id, line);
        if (status) lines.push(line);
      }
      n.shared = await n.readShared();
      for (const id of n.shared.keys()) {
        const line = await n.sharedStatus(id);
        if (line === null) continue;
        n.statusTold.set(id, line);
        if (status) lines.push(line);
      }
      n.syncFetchView();
      n.syncOwnerChannels();
    } catch (err) {
      n.stop();
      throw err;
    }
    return { notifier: n, lines };
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const off of this.ownerChannels.values()) off();
    this.ownerChannels.clear();
  }

  /** True when the selected mailbox is watched (IDLE then leaves announcing to the notifier). */
  watchesSelected(): boolean {
    return this.selectedGroup() !== undefined && this.s.state.kind === 'selected';
  }

  /** Resolves when no notification is being written (the session starts the next command after it). */
  settled(): Promise<void> {
    return this.busy;
  }

  /** After a command (its tagged response written): tell what piled up meanwhile. */
  afterCommand(): void {
    if (this.fetchView !== this.currentView()) this.syncFetchView();
    this.syncOwnerChannels();
    this.dirtySelected = this.dirtySelected || this.fetchWanted();
    this.kick();
  }

  private onEvent(e: ChangeEvent): void {
    if (this.stopped) return;
    switch (e.kind) {
      case 'credentials':
        return;
      case 'recheck':
        this.dirtyNames = this.dirtySubscriptions = this.dirtySelected = this.dirtyShared = true;
        for (const id of this.names.keys()) this.dirtyBoxes.add(id);
        for (const id of this.shared.keys()) this.dirtyBoxes.add(id);
        break;
      case 'mailbox-created':
      case 'mailbox-renamed':
      case 'mailbox-deleted':
        this.dirtyNames = true;
        break;
      case 'subscription':
        this.dirtySubscriptions = true;
        break;
      default:
        if (e.mailboxId === this.currentView()?.mailboxId) this.dirtySelected ||= this.selectedWants(e.kind);
        else this.dirtyBoxes.add(e.mailboxId);
    }
    if (this.dirtyBoxes.size > MAX_PENDING && this.s.needsDrain()) return this.overflow();
    this.kick();
  }

  /** A change on another user's channel: only the mailboxes this NOTIFY watches there count. */
  private onOwnerEvent(e: ChangeEvent): void {
    if (this.stopped) return;
    switch (e.kind) {
      case 'recheck': // the user's own channel hears it too
      case 'credentials':
      case 'subscription':
        return;
      case 'mailbox-created':
      case 'mailbox-renamed':
      case 'mailbox-deleted':
        this.dirtyShared = true;
        break;
      default:
        if (e.mailboxId === this.currentView()?.mailboxId) this.dirtySelected ||= this.selectedWants(e.kind);
        else if (this.shared.has(e.mailboxId) && this.groupFor(this.shared.get(e.mailboxId)!.name, false)) this.dirtyBoxes.add(e.mailboxId);
        else return;
    }
    this.kick();
  }

  /** Listens on the channel of every owner whose mailbox is watched or selected, and on no other. */
  private syncOwnerChannels(): void {
    if (this.stopped) return;
    const me = this.s.user().id;
    const owners = new Set([...this.shared.values()].map((m) => m.ownerId));
    const view = this.currentView();
    if (view && view.ownerId !== me && this.selectedGroup()) owners.add(view.ownerId);
    for (const [id, off] of this.ownerChannels) {
      if (owners.has(id)) continue;
      off();
      this.ownerChannels.delete(id);
    }
    for (const id of owners) {
      if (!this.ownerChannels.has(id)) this.ownerChannels.set(id, this.s.services.bus.subscribe(id, (e) => this.onOwnerEvent(e)));
    }
  }

  private kick(): void {
    if (this.stopped || !this.s.mayNotify()) return;
    this.busy = this.busy.then(() => this.push()).catch((err: unknown) => this.s.info.log.warn({ err }, 'NOTIFY push failed'));
  }

  private async push(): Promise<void> {
    if (this.stopped || !this.s.mayNotify() || this.s.isClosed) return;
    if (this.dirtyNames) {
      this.dirtyNames = false;
      await this.tellNames();
    }
    if (this.dirtySubscriptions) {
      this.dirtySubscriptions = false;
      await this.tellSubscriptions();
    }
    if (this.dirtyShared) {
      this.dirtyShared = false;
      await this.tellShared();
    }
    if (this.dirtySelected && this.s.mayNotify()) {
      this.dirtySelected = false;
      await this.tellSelected();
    }
    const boxes = [...this.dirtyBoxes];
    this.dirtyBoxes.clear();
    for (const id of boxes) await this.tellStatus(id);
  }

  private overflow(): void {
    this.s.send('* OK [NOTIFICATIONOVERFLOW] Too many changes; NOTIFY is off\r\n');
    this.stop();
    this.s.notifier = undefined;
  }

  /** Writes now if still allowed; else false and the caller keeps the change for later. */
  private write(lines: string[]): boolean {
    if (!this.s.mayNotify()) return false;
    if (lines.length > 0) this.s.send(lines.join(''));
    return true;
  }

  // ---- selected mailbox ---------------------------------------------------

  private currentView(): MailboxView | null {
    return this.s.state.kind === 'selected' ? this.s.state.view : null;
  }

  private selectedGroup(): NotifyGroup | undefined {
    return this.groups.find((g) => g.filter.kind === 'selected');
  }

  private selectedWants(kind: ChangeEvent['kind']): boolean {
    const g = this.selectedGroup();
    if (!g) return false;
    if (kind === 'append') return g.events.has('MessageNew');
    if (kind === 'expunge') return g.events.has('MessageExpunge');
    return kind === 'flags' && g.events.has('FlagChange');
  }

  private syncFetchView(): void {
    this.fetchView = this.currentView();
    this.fetchedUpTo = this.fetchView?.lastUid() ?? 0;
  }

  private fetchWanted(): boolean {
    const view = this.currentView();
    return view !== null && this.selectedGroup()?.fetchText !== undefined && view.lastUid() > this.fetchedUpTo;
  }

  private async tellSelected(): Promise<void> {
    const g = this.selectedGroup();
    const view = this.currentView();
    if (!g || !view) return;
    if (this.fetchView !== view) this.syncFetchView();
    const delayed = g.filter.kind === 'selected' && g.filter.delayed;
    await this.s.announce(!delayed || this.s.idling);
    if (g.fetchText === undefined || view.lastUid() <= this.fetchedUpTo || !this.s.mayNotify()) return;
    const from = this.fetchedUpTo + 1;
    this.fetchedUpTo = view.lastUid();
    const tag = 'notify';
    const args = parseCommand({ segments: [Buffer.from(`${tag} UID FETCH ${from}:${this.fetchedUpTo} ${g.fetchText}`, 'latin1')], literals: [], tag }, { utf8: this.s.utf8 }).args;
    await fetch.run({ session: this.s, tag, name: 'FETCH', uid: true, args });
  }

  // ---- other mailboxes ----------------------------------------------------

  /**
   * The first group whose filter takes `name` (RFC 5465 6: a NONE group before PERSONAL
   * excludes); `own` false for another user's mailbox, which PERSONAL and INBOXES never take.
   */
  private groupFor(name: string, own = true): NotifyGroup | undefined {
    return this.groups.find((g) => {
      const f = g.filter;
      switch (f.kind) {
        case 'selected':
          return false;
        case 'personal':
          return own;
        case 'inboxes':
          return own && name === 'INBOX';
        case 'subscribed':
          return this.subscriptions.has(name);
        case 'mailboxes':
          return f.names.includes(name);
        case 'subtree':
          return f.names.some((n) => name === n || name.startsWith(`${n}/`));
      }
    });
  }

  private wants(name: string, event: NotifyEvent, own = true): boolean {
    return this.groupFor(name, own)?.events.has(event) ?? false;
  }

  /** The STATUS line for `box` as NOTIFY tells it, or null when its group does not ask. */
  private async statusFor(box: Mailbox, own = true): Promise<string | null> {
    const g = this.groupFor(box.name, own);
    if (!g?.events.has('MessageNew') || box.id === this.currentView()?.mailboxId) return null;
    const items = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', ...(g.events.has('FlagChange') ? ['UNSEEN'] : [])];
    return statusLine(this.s, box, items);
  }

  /** STATUS of a watched shared mailbox, under the name the user sees; null without the `r` right. */
  private async sharedStatus(id: Id): Promise<string | null> {
    const seen = this.shared.get(id);
    if (!seen?.rights.includes('r')) return null;
    const box = await this.s.services.store.getMailboxById(id);
    if (!box || box.userId !== seen.ownerId) return null;
    return this.statusFor({ ...box, name: seen.name }, false);
  }

  private async tellStatus(id: Id): Promise<void> {
    let line: string | null;
    if (this.shared.has(id)) line = await this.sharedStatus(id);
    else {
      const box = await this.s.services.store.getMailboxById(id);
      if (!box || box.userId !== this.s.user().id) return;
      line = await this.statusFor(box);
    }
    if (line === null || line === this.statusTold.get(id)) return;
    if (this.write([line])) this.statusTold.set(id, line);
    else this.dirtyBoxes.add(id);
  }

  private async tellNames(): Promise<void> {
    const boxes = await this.s.services.store.listMailboxes(this.s.user().id);
    const lines: string[] = [];
    const now = new Map(boxes.map((b) => [b.id, b.name]));
    const fmt = (name: string) => formatMailbox(name, this.s.utf8);
    for (const [id, old] of this.names) {
      if (!now.has(id) && this.wants(old, 'MailboxName')) lines.push(`* LIST (\\NonExistent) "/" ${fmt(old)}\r\n`);
    }
    for (const [id, name] of now) {
      const old = this.names.get(id);
      if (old === name) continue;
      if (!this.wants(name, 'MailboxName') && !(old !== undefined && this.wants(old, 'MailboxName'))) continue;
      lines.push(old === undefined ? `* LIST () "/" ${fmt(name)}\r\n` : `* LIST () "/" ${fmt(name)} ("OLDNAME" (${fmt(old)}))\r\n`);
    }
    if (!this.write(lines)) {
      this.dirtyNames = true;
      return;
    }
    for (const id of this.names.keys()) if (!now.has(id)) this.statusTold.delete(id);
    this.names = now;
  }

  /** Other users' mailboxes shared with this user, when a SUBSCRIBED, MAILBOXES or SUBTREE filter could take one. */
  private async readShared(): Promise<Map<Id, { name: string; rights: string; ownerId: Id }>> {
    const found = new Map<Id, { name: string; rights: string; ownerId: Id }>();
    if (!this.groups.some((g) => g.filter.kind === 'subscribed' || g.filter.kind === 'mailboxes' || g.filter.kind === 'subtree')) return found;
    for (const m of await this.s.services.store.sharedWith(this.s.user().id)) {
      if (!m.rights.includes('l') && !m.rights.includes('r')) continue; // RFC 4314 4: it does not exist for him
      found.set(m.mailboxId, { name: sharedName(m), rights: m.rights, ownerId: m.ownerId });
    }
    return found;
  }

  /**
   * After an owner created, renamed or deleted mailboxes: `* LIST` for the watched shared ones
   * that appeared, moved or went (with the `l` right), as tellNames does for the user's own.
   */
  private async tellShared(): Promise<void> {
    const now = await this.readShared();
    const lines: string[] = [];
    const fmt = (name: string) => formatMailbox(name, this.s.utf8);
    const told = (m: { name: string; rights: string }) => m.rights.includes('l') && this.wants(m.name, 'MailboxName', false);
    for (const [id, old] of this.shared) if (!now.has(id) && told(old)) lines.push(`* LIST (\\NonExistent) "/" ${fmt(old.name)}\r\n`);
    for (const [id, m] of now) {
      const old = this.shared.get(id);
      if (old?.name === m.name || !(told(m) || (old !== undefined && told(old)))) continue;
      lines.push(old === undefined ? `* LIST () "/" ${fmt(m.name)}\r\n` : `* LIST () "/" ${fmt(m.name)} ("OLDNAME" (${fmt(old.name)}))\r\n`);
    }
    if (!this.write(lines)) {
      this.dirtyShared = true;
      return;
    }
    await this.adoptShared(now);
  }

  /**
   * Takes a new set of shared mailboxes. One a filter now takes that it did not (new, renamed,
   * subscribed) gets a STATUS baseline, so only later changes are told; one it no longer takes
   * loses its own. The others keep theirs: a change pending for them is still told.
   */
  private async adoptShared(now: Map<Id, { name: string; rights: string; ownerId: Id }>): Promise<void> {
    for (const id of this.shared.keys()) if (!now.has(id)) this.statusTold.delete(id);
    const before = this.shared;
    this.shared = now;
    for (const [id, m] of now) {
      if (!this.groupFor(m.name, false)?.events.has('MessageNew')) this.statusTold.delete(id);
      else if (before.get(id)?.name !== m.name || !this.statusTold.has(id)) {
        const line = await this.sharedStatus(id);
        if (line === null) this.statusTold.delete(id);
        else this.statusTold.set(id, line);
      }
    }
    this.syncOwnerChannels();
  }

  private async tellSubscriptions(): Promise<void> {
    const now = new Set(await this.s.services.store.listSubscriptions(this.s.user().id));
    const lines: string[] = [];
    const fmt = (name: string) => formatMailbox(name, this.s.utf8);
    // a subscribed name in a shared namespace is another user's mailbox unless one of his own is called so
    const ownNames = new Set(this.names.values());
    const wants = (name: string) => this.wants(name, 'SubscriptionChange', ownNames.has(name) || !isSharedNamespaceName(name));
    const before = this.subscriptions;
    // SUBSCRIBED takes a name subscribed now or until now: both ends of the change are told
    this.subscriptions = new Set([...before, ...now]);
    for (const name of now) if (!before.has(name) && wants(name)) lines.push(`* LIST (\\Subscribed) "/" ${fmt(name)}\r\n`);
    for (const name of before) if (!now.has(name) && wants(name)) lines.push(`* LIST () "/" ${fmt(name)}\r\n`);
    if (!this.write(lines)) {
      this.subscriptions = before;
      this.dirtySubscriptions = true;
      return;
    }
    this.subscriptions = now;
    // a shared mailbox (un)subscribed joins or leaves SUBSCRIBED: no LIST beyond the one above
    if (this.groups.some((g) => g.filter.kind === 'subscribed')) await this.adoptShared(await this.readShared());
  }
}
