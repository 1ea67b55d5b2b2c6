// The tenant's directory at run time: the generated people (data/people.ts) and a deterministic
// set of groups, with the changes made while the simulator runs (users added, deleted, restored,
// patched, sessions revoked, memberships changed) layered on top, and a numbered log of those
// changes that delta queries read ("changes after sequence N"). Group membership is a rule over
// user indexes, so no member list is stored even for a 200,000-user tenant; only the changes are.
import { DEPARTMENTS, DEVICES, HOME_CITIES } from './catalog.js';
import { personAt, type Person } from './people.js';
import { guidOf, hashString, mix } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { DAY } from './time.js';

/** Deleted users can be restored for 30 days, then they are gone for good (user-delete.md). */
export const RESTORE_DAYS = 30;

export interface DirUser {
  index: number;
  /** The generated person (for added users, one built from the control API's body). */
  person: Person;
  added: boolean;
  /** Property values changed at run time (PATCH), by Graph property name. */
  props: Record<string, unknown>;
  signInSessionsValidFrom?: number;
  deleted?: { at: number; hard: boolean };
}

export type MemberType = 'user' | 'group';

export type DirectoryChange =
  | {
      seq: number;
      at: number;
      kind: 'user';
      userId: string;
      /** Properties changed; null: the whole object (added, deleted, restored). */
      props: string[] | null;
    }
  | { seq: number; at: number; kind: 'member'; group: number; memberId: string; memberType: MemberType };

type Unsequenced = {
  [K in DirectoryChange['kind']]: Omit<Extract<DirectoryChange, { kind: K }>, 'seq'>;
}[DirectoryChange['kind']];

export interface GroupPlan {
  index: number;
  id: string;
  displayName: string;
  description: string;
  mailNickname: string;
  kind: 'unified' | 'security';
  createdDateTime: number;
  /** Synced from on-premises Active Directory. */
  synced: boolean;
  roleAssignable: boolean;
  visibility: 'Public' | 'Private' | null;
  /** Direct user members by rule: base users in [from, to) whose traits pass the test. */
  rule: { from: number; to: number; test(traits: Traits, index: number): boolean } | null;
  /** Groups that are direct members (nesting). */
  nested: number[];
}

export type MemberRef = { type: 'user'; user: DirUser } | { type: 'group'; group: GroupPlan };

/** Where a member listing stands: p 0 = rule users (o = next user index), 1 = nested groups, 2 = added members. */
export interface MemberCursor {
  p: number;
  o: number;
}

export interface NewUserInput {
  displayName: string;
  userPrincipalName: string;
  userType?: 'Member' | 'Guest';
  accountEnabled?: boolean;
  givenName?: string | null;
  surname?: string | null;
  department?: string | null;
  jobTitle?: string | null;
  mail?: string | null;
}

const PROJECT_NAMES = [
  'Aurora',
  'Borealis',
  'Cascade',
  'Delta',
  'Ember',
  'Falcon',
  'Glacier',
  'Harbor',
  'Ion',
  'Juniper',
  'Keystone',
  'Lighthouse',
  'Meridian',
  'Nimbus',
  'Orion',
  'Pioneer',
  'Quartz',
  'Redwood',
  'Summit',
  'Tidal',
];

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

/**
 * What group rules look at, one byte per generated user so that scanning a 200,000-user tenant
 * needs no person objects: department + 1 in the low four bits (0: none), guest 16, Global
 * Administrator 32.
 */
export type Traits = Uint8Array;
const GUEST = 16;
const GLOBAL_ADMIN = 32;
const traitsOf = (p: Person): number =>
  (p.department ? DEPARTMENTS.indexOf(p.department) + 1 : 0) |
  (p.userType === 'Guest' ? GUEST : 0) |
  (p.globalAdmin ? GLOBAL_ADMIN : 0);
const isGuest = (t: Traits, i: number) => (t[i]! & GUEST) !== 0;
const departmentOf = (t: Traits, i: number) => (t[i]! & 15) - 1;

/** The tenant's groups: a fixed core (with two levels of nesting) and one project group per ~25 users. */
function planGroups(tenant: SimTenant, start: number): GroupPlan[] {
  const n = tenant.userCount;
  const plans: GroupPlan[] = [];
  const add = (p: Omit<GroupPlan, 'index' | 'id' | 'createdDateTime' | 'mailNickname'> & { mailNickname?: string }) => {
    const index = plans.length;
    const ageDays = 200 + (mix(tenant.salt, 61, index) % 1800);
    plans.push({
      ...p,
      index,
      id: guidOf(tenant.salt, 6, index),
      mailNickname: p.mailNickname ?? slug(p.displayName),
      // whole seconds, as the directory stores them
      createdDateTime: Math.floor((start - ageDays * DAY - (mix(tenant.salt, 62, index) % DAY)) / 1000) * 1000,
    });
    return index;
  };
  const all = { from: 0, to: n };
  add({
    displayName: 'All Company',
    description: 'This is the default group for everyone in the network',
    kind: 'unified',
    synced: false,
    roleAssignable: false,
    visibility: 'Public',
    rule: { ...all, test: (t, i) => !isGuest(t, i) },
    nested: [],
    mailNickname: 'allcompany',
  });
  add({
    displayName: 'External Collaborators',
    description: 'Guests invited from partner organisations',
    kind: 'security',
    synced: false,
    roleAssignable: false,
    visibility: null,
    rule: { ...all, test: isGuest },
    nested: [],
  });
  const departments = DEPARTMENTS.map((d, k) =>
    add({
      displayName: `${d} Department`,
      description: `Everyone in ${d}`,
      kind: 'security',
      synced: true,
      roleAssignable: false,
      visibility: null,
      rule: { ...all, test: (t, i) => departmentOf(t, i) === k },
      nested: [],
    }),
  );
  // Nesting, level 1: a group whose members are the department groups.
  add({
    displayName: 'All Departments',
    description: 'Every department group',
    kind: 'security',
    synced: false,
    roleAssignable: false,
    visibility: null,
    rule: null,
    nested: departments,
  });
  // Nesting, two levels: Emergency Access ⊂ Tier 0 Administrators ⊂ Privileged Access.
  const breakGlass = add({
    displayName: 'Emergency Access Accounts',
    description: 'Break-glass accounts excluded from Conditional Access',
    kind: 'security',
    synced: false,
    roleAssignable: true,
    visibility: null,
    rule: { from: 0, to: Math.min(2, n), test: () => true },
    nested: [],
  });
  const tier0 = add({
    displayName: 'Tier 0 Administrators',
    description: 'Holders of Global Administrator',
    kind: 'security',
    synced: false,
    roleAssignable: true,
    visibility: null,
    rule: { from: 0, to: Math.min(tenant.globalAdmins, n), test: (t, i) => (t[i]! & GLOBAL_ADMIN) !== 0 },
    nested: [breakGlass],
  });
  const helpdesk = add({
    displayName: 'Helpdesk Operators',
    description: 'First-line support',
    kind: 'security',
    synced: true,
    roleAssignable: false,
    visibility: null,
    rule: { ...all, test: (t, i) => i % 5 === 0 && departmentOf(t, i) === DEPARTMENTS.indexOf('IT') },
    nested: [],
  });
  add({
    displayName: 'Privileged Access',
    description: 'Everyone with an administrative role, directly or through a group',
    kind: 'security',
    synced: false,
    roleAssignable: true,
    visibility: null,
    rule: null,
    nested: [tier0, helpdesk],
  });
  add({
    displayName: 'VPN Users',
    description: 'Remote access',
    kind: 'security',
    synced: true,
    roleAssignable: false,
    visibility: null,
    rule: { ...all, test: (t, i) => i % 3 === 0 && !isGuest(t, i) },
    nested: [],
  });
  const projects = Math.max(1, Math.ceil(n / 25));
  for (let k = 0; k < projects; k++) {
    const name = `Project ${PROJECT_NAMES[k % PROJECT_NAMES.length]}${k >= PROJECT_NAMES.length ? ` ${Math.floor(k / PROJECT_NAMES.length) + 1}` : ''}`;
    add({
      displayName: name,
      description: `Team site and conversations for ${name}`,
      kind: 'unified',
      synced: false,
      roleAssignable: false,
      visibility: k % 4 === 0 ? 'Public' : 'Private',
      // each user (guests too) is in exactly one project: a block of 25 consecutive people, who are
      // drawn independently of their neighbours; a block lists without scanning the tenant
      rule: { from: k * 25, to: Math.min(n, (k + 1) * 25), test: () => true },
      nested: [],
    });
  }
  return plans;
}

export class DirectoryError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class Directory {
  readonly groups: GroupPlan[];
  private readonly baseCount: number;
  private readonly people = new Map<number, Person>(); // bounded cache
  private readonly changed = new Map<number, DirUser>(); // users with run-time state
  private readonly addedUsers: DirUser[] = [];
  private readonly groupIds: Map<string, number>;
  private idIndex: Map<string, number> | undefined;
  private traitBytes: Traits | undefined;
  private readonly overlays = new Map<number, { added: Map<string, MemberType>; removed: Set<string> }>();
  private readonly log: DirectoryChange[] = [];

  constructor(
    readonly tenant: SimTenant,
    readonly start: number,
  ) {
    this.baseCount = tenant.userCount;
    this.groups = planGroups(tenant, start);
    this.groupIds = new Map(this.groups.map((g) => [g.id, g.index]));
  }

  /** Users ever created: the generated ones, then those added at run time. */
  get userCount(): number {
    return this.baseCount + this.addedUsers.length;
  }

  /** The latest change's sequence number (0: none yet). */
  get seq(): number {
    return this.log.length;
  }

  private person(i: number): Person {
    let p = this.people.get(i);
    if (!p) {
      if (this.people.size >= 20_000) this.people.clear();
      p = personAt(this.tenant, i, this.start);
      this.people.set(i, p);
    }
    return p;
  }

  /** User i with its run-time state, deleted ones included; undefined past the end. */
  userAt(i: number): DirUser | undefined {
    return this.user(i, true);
  }

  /**
   * User i as userAt has it, without keeping the generated person in the cache: for passes over
   * every user (the registration report), where a cache that fills and clears only adds garbage
   * collection.
   */
  scanUserAt(i: number): DirUser | undefined {
    return this.user(i, false);
  }

  private user(i: number, cache: boolean): DirUser | undefined {
    if (i < 0 || i >= this.userCount) return undefined;
    if (i >= this.baseCount) return this.addedUsers[i - this.baseCount];
    return (
      this.changed.get(i) ?? {
        index: i,
        person: cache ? this.person(i) : (this.people.get(i) ?? personAt(this.tenant, i, this.start)),
        added: false,
        props: {},
      }
    );
  }

  /** A user by object id or userPrincipalName (case-insensitive), deleted ones included. */
  findUser(idOrUpn: string): DirUser | undefined {
    const key = idOrUpn.toLowerCase();
    if (key.includes('@')) {
      // Generated UPNs carry the user's index before the domain (or the #EXT# part).
      const m = /^[^@_]*?(\d+)(?:_|@)/.exec(key);
      const candidates = m ? [Number(m[1])] : [];
      for (const i of candidates) {
        const u = this.userAt(i);
        if (u && !u.added && this.upnOf(u).toLowerCase() === key) return u;
      }
      // added users, and generated ones whose userPrincipalName was changed by a PATCH
      return [...this.changed.values(), ...this.addedUsers].find((u) => this.upnOf(u).toLowerCase() === key);
    }
    return this.userById(key);
  }

  /** A user by object id (case-insensitive), deleted ones included. */
  userById(id: string): DirUser | undefined {
    const key = id.toLowerCase();
    const i = this.index().ids.get(key);
    if (i !== undefined) return this.userAt(i);
    return this.addedUsers.find((u) => u.person.id === key);
  }

  /**
   * The person as the directory shows it now: the run-time values of the Person properties the
   * reports show (displayName, userType, accountEnabled, userPrincipalName) replace the generated ones.
   */
  personOf(u: DirUser): Person {
    if (Object.keys(u.props).length === 0) return u.person;
    const { displayName, userType, accountEnabled } = u.props;
    return {
      ...u.person,
      userPrincipalName: this.upnOf(u),
      ...(typeof displayName === 'string' ? { displayName } : {}),
      ...(userType === 'Member' || userType === 'Guest' ? { userType } : {}),
      ...(typeof accountEnabled === 'boolean' ? { accountEnabled } : {}),
    };
  }

  /** One pass over the generated people: the id index and the traits group rules read. */
  private index(): { ids: Map<string, number>; traits: Traits } {
    if (!this.idIndex || !this.traitBytes) {
      const ids = new Map<string, number>();
      const traits = new Uint8Array(this.baseCount);
      for (let i = 0; i < this.baseCount; i++) {
        const p = personAt(this.tenant, i, this.start);
        ids.set(p.id, i);
        traits[i] = traitsOf(p);
      }
      this.idIndex = ids;
      this.traitBytes = traits;
    }
    return { ids: this.idIndex, traits: this.traitBytes };
  }

  /** Users with run-time state: generated ones changed since the start, then the added ones. */
  runtimeUsers(): DirUser[] {
    return [...this.changed.values(), ...this.addedUsers];
  }

  /** Users that exist now (not deleted). */
  get liveUserCount(): number {
    let deleted = 0;
    for (const u of this.runtimeUsers()) if (u.deleted) deleted++;
    return this.userCount - deleted;
  }

  upnOf(u: DirUser): string {
    return typeof u.props.userPrincipalName === 'string' ? u.props.userPrincipalName : u.person.userPrincipalName;
  }

  findGroup(id: string): GroupPlan | undefined {
    const i = this.groupIds.get(id.toLowerCase());
    return i === undefined ? undefined : this.groups[i];
  }

  /** Purges users deleted more than 30 days ago, as the directory does, logging it when it happened. */
  tick(now: number): void {
    const due: DirUser[] = [];
    for (const u of this.runtimeUsers()) {
      if (u.deleted && !u.deleted.hard && u.deleted.at + RESTORE_DAYS * DAY <= now) due.push(u);
    }
    due.sort((a, b) => a.deleted!.at - b.deleted!.at || a.index - b.index);
    for (const u of due) {
      const at = u.deleted!.at + RESTORE_DAYS * DAY;
      u.deleted = { at, hard: true };
      this.record({ at, kind: 'user', userId: u.person.id, props: null });
    }
  }

  // ------------------------------------------------------------------ membership

  private overlay(g: GroupPlan) {
    let o = this.overlays.get(g.index);
    if (!o) this.overlays.set(g.index, (o = { added: new Map(), removed: new Set() }));
    return o;
  }

  private ruleMember(g: GroupPlan, u: DirUser): boolean {
    return (
      !u.added &&
      g.rule !== null &&
      u.index >= g.rule.from &&
      u.index < g.rule.to &&
      g.rule.test(this.index().traits, u.index)
    );
  }

  /** Whether `id` is a direct member of `g` now (deleted users are members of nothing). */
  isDirectMember(g: GroupPlan, id: string): boolean {
    const o = this.overlays.get(g.index);
    if (o?.removed.has(id)) return false;
    const nested = this.groupIds.get(id);
    if (nested !== undefined) return g.nested.includes(nested) || o?.added.get(id) === 'group';
    const u = this.findUser(id);
    if (!u || u.deleted) return false;
    return o?.added.get(id) === 'user' || this.ruleMember(g, u);
  }

  /** Direct members from a cursor, in a stable order: rule users, nested groups, added members. */
  *directMembers(g: GroupPlan, from: MemberCursor = { p: 0, o: 0 }): Generator<{ ref: MemberRef; next: MemberCursor }> {
    const o = this.overlays.get(g.index);
    if (from.p <= 0 && g.rule) {
      const end = Math.min(g.rule.to, this.baseCount);
      const { traits } = this.index();
      for (let i = Math.max(from.p === 0 ? from.o : 0, g.rule.from); i < end; i++) {
        if (!g.rule.test(traits, i) || this.changed.get(i)?.deleted) continue;
        const u = this.userAt(i)!;
        if (o?.removed.has(u.person.id)) continue;
        yield { ref: { type: 'user', user: u }, next: { p: 0, o: i + 1 } };
      }
    }
    if (from.p <= 1) {
      for (let k = from.p === 1 ? from.o : 0; k < g.nested.length; k++) {
        const nested = this.groups[g.nested[k]!]!;
        if (o?.removed.has(nested.id)) continue;
        yield { ref: { type: 'group', group: nested }, next: { p: 1, o: k + 1 } };
      }
    }
    if (o) {
      const added = [...o.added];
      for (let k = from.p === 2 ? from.o : 0; k < added.length; k++) {
        const [id, type] = added[k]!;
        const ref = this.refOf(id, type);
        if (ref) yield { ref, next: { p: 2, o: k + 1 } };
      }
    }
  }

  private refOf(id: string, type: MemberType): MemberRef | undefined {
    if (type === 'group') {
      const group = this.findGroup(id);
      return group && { type, group };
    }
    const user = this.findUser(id);
    return user && !user.deleted ? { type, user } : undefined;
  }

  /** The group and every group nested in it, breadth first, each once. */
  groupTree(g: GroupPlan): GroupPlan[] {
    const out = [g];
    for (let k = 0; k < out.length; k++) {
      for (const { ref } of this.directMembers(out[k]!, { p: 1, o: 0 })) {
        if (ref.type === 'group' && !out.includes(ref.group)) out.push(ref.group);
      }
    }
    return out;
  }

  /** Groups the user is a direct member of now. */
  groupsOf(u: DirUser): GroupPlan[] {
    return this.groups.filter((g) => this.isDirectMember(g, u.person.id));
  }

  // ------------------------------------------------------------------ changes

  private record(change: Unsequenced): void {
    this.log.push({ ...change, seq: this.log.length + 1 });
  }

  /** Changes with sequence numbers in (after, upTo]. */
  changesBetween(after: number, upTo: number): DirectoryChange[] {
    return this.log.slice(Math.max(0, after), Math.min(upTo, this.log.length));
  }

  /** The state object of a user, created on first change so that later reads see it. */
  private mutable(u: DirUser): DirUser {
    if (u.added || this.changed.has(u.index)) return u;
    this.changed.set(u.index, u);
    return u;
  }

  addUser(input: NewUserInput, now: number): DirUser {
    const upn = input.userPrincipalName.toLowerCase();
    if (this.findUser(upn))
      throw new DirectoryError(409, `userPrincipalName ${input.userPrincipalName} is already in use`);
    const k = this.addedUsers.length;
    const index = this.baseCount + k;
    const guest = input.userType === 'Guest';
    const person: Person = {
      index,
      id: guidOf(this.tenant.salt, 9, k, hashString(upn)),
      givenName: input.givenName ?? input.displayName.split(' ')[0] ?? input.displayName,
      surname: input.surname ?? (input.displayName.split(' ').slice(1).join(' ') || input.displayName),
      displayName: input.displayName,
      userPrincipalName: input.userPrincipalName,
      mail: input.mail ?? input.userPrincipalName,
      userType: guest ? 'Guest' : 'Member',
      externalUserState: guest ? 'PendingAcceptance' : null,
      accountEnabled: input.accountEnabled ?? true,
      synced: false,
      globalAdmin: false,
      dormant: true, // has never signed in
      staleDays: 0,
      createdDateTime: Math.floor(now / 1000) * 1000,
      department: input.department ?? null,
      jobTitle: input.jobTitle ?? null,
      home: HOME_CITIES[0]!,
      homeIp: '',
      device: DEVICES[0]!,
      deviceId: '',
      activity: 0,
    };
    const user: DirUser = { index, person, added: true, props: {} };
    this.addedUsers.push(user);
    this.record({ at: now, kind: 'user', userId: person.id, props: null });
    return user;
  }

  updateUser(u: DirUser, props: Record<string, unknown>, now: number): void {
    const names = Object.keys(props);
    if (names.length === 0) return;
    Object.assign(this.mutable(u).props, props);
    this.record({ at: now, kind: 'user', userId: u.person.id, props: names });
  }

  revokeSessions(u: DirUser, now: number): void {
    this.mutable(u).signInSessionsValidFrom = Math.floor(now / 1000) * 1000;
    this.record({ at: now, kind: 'user', userId: u.person.id, props: ['signInSessionsValidFromDateTime'] });
  }

  /** Soft delete (restorable for 30 days) or hard delete; memberships end with it. */
  deleteUser(u: DirUser, hard: boolean, now: number): void {
    if (u.deleted?.hard) throw new DirectoryError(404, `user ${u.person.id} does not exist`);
    if (u.deleted && !hard) throw new DirectoryError(404, `user ${u.person.id} is already deleted`);
    const groups = u.deleted ? [] : this.groupsOf(u);
    this.mutable(u).deleted = { at: u.deleted?.at ?? now, hard };
    if (hard) {
      // permanently gone: nothing refers to it any more
      for (const o of this.overlays.values()) {
        o.added.delete(u.person.id);
        o.removed.delete(u.person.id);
      }
    }
    this.record({ at: now, kind: 'user', userId: u.person.id, props: null });
    for (const g of groups)
      this.record({ at: now, kind: 'member', group: g.index, memberId: u.person.id, memberType: 'user' });
  }

  restoreUser(u: DirUser, now: number): void {
    if (!u.deleted || u.deleted.hard) throw new DirectoryError(404, `user ${u.person.id} is not in the deleted items`);
    delete this.mutable(u).deleted;
    this.record({ at: now, kind: 'user', userId: u.person.id, props: null });
    for (const g of this.groupsOf(u))
      this.record({ at: now, kind: 'member', group: g.index, memberId: u.person.id, memberType: 'user' });
  }

  addMember(g: GroupPlan, memberId: string, now: number): MemberRef {
    const id = memberId.toLowerCase();
    const group = this.findGroup(id);
    const user = group ? undefined : this.findUser(id);
    if (!group && (!user || user.deleted)) throw new DirectoryError(404, `no user or group ${memberId}`);
    if (group && (group === g || this.groupTree(group).includes(g)))
      throw new DirectoryError(400, 'a group cannot contain itself');
    if (this.isDirectMember(g, id))
      throw new DirectoryError(400, `${memberId} is already a member of ${g.displayName}`);
    const o = this.overlay(g);
    const type: MemberType = group ? 'group' : 'user';
    const byRule = group ? g.nested.includes(group.index) : this.ruleMember(g, user!);
    if (byRule) o.removed.delete(id);
    else o.added.set(id, type);
    this.record({ at: now, kind: 'member', group: g.index, memberId: id, memberType: type });
    return group ? { type: 'group', group } : { type: 'user', user: user! };
  }

  removeMember(g: GroupPlan, memberId: string, now: number): void {
    const id = memberId.toLowerCase();
    if (!this.isDirectMember(g, id)) throw new DirectoryError(404, `${memberId} is not a member of ${g.displayName}`);
    const o = this.overlay(g);
    const type: MemberType = this.groupIds.has(id) ? 'group' : 'user';
    if (!o.added.delete(id)) o.removed.add(id);
    this.record({ at: now, kind: 'member', group: g.index, memberId: id, memberType: type });
  }
}

/** One directory per tenant, created on first use. */
export function directoryCache(start: number): (tenant: SimTenant) => Directory {
  const built = new Map<string, Directory>();
  return (tenant) => {
    let d = built.get(tenant.id);
    if (!d) built.set(tenant.id, (d = new Directory(tenant, start)));
    return d;
  };
}
