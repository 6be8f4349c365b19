/**
 * Values SDKs and forms send when they have no real identifier. Letting one of
 * them become an identity would merge every visitor who sent it into one profile.
 */
const BUILT_IN_JUNK = ['', 'null', 'undefined', 'anonymous', '0', '-1', '[object object]', 'nan', 'none', 'nil', 'n/a'];

export interface JunkIdFilter {
  isJunk(value: string): boolean;
}

/** `blocklist`: extra values (exact, case-insensitive) configured per installation. */
export function createJunkIdFilter(blocklist: readonly string[] = []): JunkIdFilter {
  const junk = new Set([...BUILT_IN_JUNK, ...blocklist.map((v) => v.trim().toLowerCase())]);
  return { isJunk: (value) => junk.has(value.trim().toLowerCase()) };
}
