// Time spans and the two timestamp formats Graph writes: whole seconds for directory objects,
// seven fractional digits for reports and logs.
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Graph's directory timestamps: whole seconds, UTC ("2018-12-22T02:21:05Z"). */
export const isoSeconds = (t: number): string => `${new Date(t).toISOString().slice(0, 19)}Z`;

/** Report timestamps carry seven fractional digits: the milliseconds, then four more (`ticks`). */
export const isoTicks = (t: number, ticks: number): string =>
  `${new Date(t).toISOString().slice(0, 23)}${String(ticks % 10_000).padStart(4, '0')}Z`;
