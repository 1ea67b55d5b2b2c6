// Users and groups by delta query (DESIGN §5, graph-facts §3.4). The first round lists the whole
// directory and ends with a deltaLink; later rounds from that link bring only changes: changed
// objects (merged into the stored record: Graph may send just the changed properties), objects
// @removed ('changed': soft-deleted and restorable, 'deleted': gone for good), and for groups
// members@delta (added members, and removed ones marked @removed). The link is saved only
// when a round is complete, so an interrupted round is simply read again. When Graph no longer
// knows the link (410 Gone, or an expired token), a full round starts over: it stamps what it
// sees with its generation and only at its end marks what it did not see as gone, so the
// current copy stays whole until the new one is.
import type { Clock } from '../clock.js';
import { GraphRequestError } from '../entra/errors.js';
import type { GraphClient } from '../entra/graph.js';
import type { CollectionRepo } from '../store/collection.js';
import { DATASETS, type DatasetRepo, type GraphRecord, type MemberRef } from '../store/datasets.js';
import { emptyDatasetStats, nextGeneration, type DatasetRunStats } from './listing.js';
import { tallyPage } from './tally.js';

/**
 * Properties read for users: what checks and insights use (type, state, sync, guest state,
 * licences, password age). A change to a property not selected does not surface in delta, so
 * this list is also what triggers an update.
 */
export const USER_DELTA_SELECT = [
  'id',
  'displayName',
  'givenName',
  'surname',
  'userPrincipalName',
  'mail',
  'otherMails',
  'proxyAddresses',
  'userType',
  'accountEnabled',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'identities',
  'jobTitle',
  'department',
  'companyName',
  'employeeId',
  'officeLocation',
  'city',
  'country',
  'usageLocation',
  'mobilePhone',
  'businessPhones',
  'preferredLanguage',
  'assignedLicenses',
  'passwordPolicies',
  'lastPasswordChangeDateTime',
  'signInSessionsValidFromDateTime',
  'onPremisesSyncEnabled',
  'onPremisesImmutableId',
  'onPremisesLastSyncDateTime',
  'onPremisesSamAccountName',
  'onPremisesDomainName',
  'onPremisesUserPrincipalName',
  'onPremisesSecurityIdentifier',
  'securityIdentifier',
].join(',');

/** Groups with their membership (members is selected, so member changes surface). */
export const GROUP_DELTA_SELECT = [
  'id',
  'displayName',
  'description',
  'mail',
  'mailEnabled',
  'mailNickname',
  'securityEnabled',
  'groupTypes',
  'isAssignableToRole',
  'membershipRule',
  'membershipRuleProcessingState',
  'visibility',
  'createdDateTime',
  'onPremisesSyncEnabled',
  'securityIdentifier',
  'members',
].join(',');

const INITIAL = {
  users: `/v1.0/users/delta?$select=${USER_DELTA_SELECT}`,
  groups: `/v1.0/groups/delta?$select=${GROUP_DELTA_SELECT}`,
};

/** Graph no longer knows the delta token: only a full round helps. */
function needsResync(err: unknown): boolean {
  return (
    err instanceof GraphRequestError &&
    (err.graphStatus === 410 || /^(syncStateNotFound|syncStateInvalid|resyncRequired)$/i.test(err.graphCode))
  );
}

/** '#microsoft.graph.user' → 'user'. */
const memberType = (ref: GraphRecord): string =>
  typeof ref['@odata.type'] === 'string' ? ref['@odata.type'].replace(/^#microsoft\.graph\./, '') : 'directoryObject';

const removedReason = (r: GraphRecord): string | undefined => {
  const removed = r['@removed'];
  if (!removed || typeof removed !== 'object') return undefined;
  const reason = (removed as GraphRecord).reason;
  return typeof reason === 'string' ? reason : 'deleted';
};

export type DeltaRunStats = DatasetRunStats & {
  round: 'full' | 'changes';
  /** Graph no longer knew the saved link, so this run read the whole directory again. */
  resync?: boolean;
  membersAdded?: number;
  membersRemoved?: number;
};

export interface DeltaDeps {
  integrationId: string;
  kind: 'users' | 'groups';
  graph: GraphClient;
  collection: CollectionRepo;
  datasets: DatasetRepo;
  clock: Clock;
  signal?: AbortSignal;
  onProgress?(stats: DeltaRunStats): void;
}

export async function collectDelta(deps: DeltaDeps): Promise<DeltaRunStats> {
  const { integrationId, kind, collection } = deps;
  const { deltaLink, cursor } = await collection.state(integrationId, kind);
  const generation = nextGeneration(deps.clock.now(), cursor);
  if (deltaLink) {
    try {
      return await round(deps, deltaLink, false, generation);
    } catch (err) {
      if (!needsResync(err)) throw err;
    }
    return { ...(await round(deps, INITIAL[kind], true, generation)), resync: true };
  }
  return round(deps, INITIAL[kind], true, generation);
}

async function round(deps: DeltaDeps, url: string, full: boolean, generation: number): Promise<DeltaRunStats> {
  const { integrationId, kind, datasets } = deps;
  const spec = DATASETS[kind];
  const stats: DeltaRunStats = {
    ...emptyDatasetStats(),
    round: full ? 'full' : 'changes',
    ...(kind === 'groups' ? { membersAdded: 0, membersRemoved: 0 } : {}),
  };
  let next: string | undefined;
  for await (const page of deps.graph.pages<GraphRecord>(url, deps.signal ? { signal: deps.signal } : {})) {
    const present: GraphRecord[] = [];
    const removed: Array<{ id: string; reason: string }> = [];
    // A large group's members span several entries, maybe pages apart: each is applied as it comes.
    const members: Array<{ groupId: string; added: MemberRef[]; removed: string[] }> = [];
    for (const record of page.value) {
      const reason = removedReason(record);
      const { 'members@delta': memberChanges, ...rest } = record;
      if (reason !== undefined && typeof record.id === 'string') removed.push({ id: record.id, reason });
      else present.push(rest);
      if (Array.isArray(memberChanges) && typeof record.id === 'string') {
        const change = { groupId: record.id, added: [] as MemberRef[], removed: [] as string[] };
        for (const ref of memberChanges as GraphRecord[]) {
          if (typeof ref.id !== 'string') continue;
          if (removedReason(ref) !== undefined) change.removed.push(ref.id);
          else change.added.push({ id: ref.id, type: memberType(ref) });
        }
        members.push(change);
      }
    }
    const counts = await datasets.upsert(spec, integrationId, present, {
      generation,
      collectedAt: deps.clock.now(),
      merge: !full,
    });
    stats.deleted += await datasets.markRemoved(spec, integrationId, removed, deps.clock.now());
    for (const m of members) {
      await datasets.applyMembers(integrationId, m.groupId, m.added, m.removed, generation);
      stats.membersAdded! += m.added.length;
      stats.membersRemoved! += m.removed.length;
    }
    tallyPage(stats, page.value.length, counts);
    next = page.deltaLink;
    deps.onProgress?.({ ...stats });
  }
  deps.signal?.throwIfAborted();
  if (!next)
    throw new GraphRequestError(200, 'MalformedResponse', `the ${kind} delta round ended without an @odata.deltaLink`);
  if (full) stats.deleted += await datasets.sweep(spec, integrationId, generation, deps.clock.now());
  if (kind === 'groups') stats.membersRemoved! += await datasets.sweepMembers(integrationId, full ? generation : null);
  await deps.collection.saveDeltaLink(integrationId, kind, next, generation, deps.clock.now());
  return stats;
}
