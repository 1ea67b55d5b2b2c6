import { existsSync, readFileSync } from 'node:fs';

// package.json is the one source of the version. This file runs from src/ (tsx) or dist/src/
// (built), so look for it one and two levels up.
const candidates = [new URL('../package.json', import.meta.url), new URL('../../package.json', import.meta.url)];
const file = candidates.find((u) => existsSync(u));
if (!file) throw new Error('idsight: package.json not found next to the installed sources');
const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };

export const NAME: string = pkg.name;
export const VERSION: string = pkg.version;
