// Collections read whole (DESIGN §5): posture data — MFA registration, risky users, Conditional
// Access, applications and service principals, roles, devices, licences, signInActivity. A pass
// lists every source, stamping what it stores with its generation; only when every page of
// every source is stored does it mark what it did not see as gone, so a failed or interrupted
// pass leaves the previous copy whole. Risk detections are history: each pass reads only what
// changed since the last one (with an overlap) and nothing is marked gone.
import type { Clock } from '../clock.js';
import type { GraphClient } from '../entra/graph.js';
import type { CollectionRepo } from '../store/collection.js';
import type { DatasetRepo, DatasetSpec, GraphRecord } from '../store/datasets.js';
import { tallyPage } from './tally.js';

export type DatasetRunStats = {
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Records marked gone: @removed by Graph, or no longer listed by a full pass. */
  deleted: number;
  pages: number;
};

/**
 * A pass's generation: its start time, but always above the last pass's (kept as the cursor), so
 * a sweep never spares what an earlier pass saw — not even when the clock stood still or stepped back.
 */
export const nextGeneration = (now: number, lastGeneration: number | null): number =>
  Math.max(now, (lastGeneration ?? 0) + 1);

export const emptyDatasetStats = (): DatasetRunStats => ({
  fetched: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  pages: 0,
});

export interface ListingSource {
  spec: DatasetSpec;
  url: string;
  /**
   * Read only what changed since the last pass: the property filtered on (ge cursor − overlap).
   * Such a source is never swept.
   */
  changedSince?: { property: string; overlapMs: number };
}

export interface ListingDeps {
  integrationId: string;
  dataType: string;
  graph: GraphClient;
  collection: CollectionRepo;
  datasets: DatasetRepo;
  clock: Clock;
  sources: ListingSource[];
  signal?: AbortSignal;
  onProgress?(stats: DatasetRunStats): void;
}

export async function collectListing(deps: ListingDeps): Promise<DatasetRunStats & { since?: string }> {
  const { integrationId, dataType, collection, datasets } = deps;
  const { cursor } = await collection.state(integrationId, dataType);
  const generation = nextGeneration(deps.clock.now(), cursor);
  const stats = emptyDatasetStats();
  let since: string | undefined;
  for (const source of deps.sources) {
    let url = source.url;
    if (source.changedSince && cursor !== null) {
      since = new Date(cursor - source.changedSince.overlapMs).toISOString();
      url += `${url.includes('?') ? '&' : '?'}$filter=${encodeURIComponent(`${source.changedSince.property} ge ${since}`)}`;
    }
    for await (const page of deps.graph.pages<GraphRecord>(url, deps.signal ? { signal: deps.signal } : {})) {
      const counts = await datasets.upsert(source.spec, integrationId, page.value, {
        generation,
        collectedAt: deps.clock.now(),
      });
      tallyPage(stats, page.value.length, counts);
      deps.onProgress?.({ ...stats });
    }
  }
  deps.signal?.throwIfAborted();
  for (const source of deps.sources)
    if (!source.changedSince)
      stats.deleted += await datasets.sweep(source.spec, integrationId, generation, deps.clock.now());
  // The cursor: when this complete pass started (what "changed since" reads from next time).
  await collection.completePlan(integrationId, dataType, generation, deps.clock.now());
  return { ...stats, ...(since ? { since } : {}) };
}
