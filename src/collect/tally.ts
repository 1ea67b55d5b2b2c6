// What each collector counts per stored page, in one place.
import type { UpsertCounts } from '../store/signins.js';

export interface PageTally {
  pages: number;
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Adds a stored page — how many records it had, and what storing them did — to a run's counts. */
export function tallyPage(stats: PageTally, records: number, counts: UpsertCounts): void {
  stats.pages++;
  stats.fetched += records;
  stats.inserted += counts.inserted;
  stats.updated += counts.updated;
  stats.unchanged += counts.unchanged;
}
