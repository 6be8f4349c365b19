import { createHash } from 'node:crypto';

/**
 * Which arm of a campaign a person is in. A hash of (campaign, person), not a
 * coin toss at send time: a person queued again (a recurring run, a trigger
 * firing twice) lands in the same arm, and the split can be recomputed to
 * check it. Buckets are 1/10,000, so 0.01 % steps of control are honoured.
 */
export function armOf(campaignId: string, profileId: string, controlPercent: number): 'treatment' | 'control' {
  if (controlPercent <= 0) return 'treatment';
  const bucket = createHash('sha256').update(`${campaignId}:${profileId}`).digest().readUInt32BE(0) % 10_000;
  return bucket < Math.round(controlPercent * 100) ? 'control' : 'treatment';
}
