import type { Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { AnalyticsInputError, recorded } from './jobs.js';
import { csat, nps } from './kpis.js';
import { loadFeedback, replaceScores } from './queries.js';
import { scoreSentiment, type SentimentLabel } from './sentiment.js';
import { extractThemes, type Keyword } from './themes.js';

/**
 * Feedback analysis over survey answers and unprompted feedback: NPS and
 * CSAT with their weekly trend, the sentiment of free text (zh and en),
 * themes and keywords, and complaints flagged for follow-up. Each profile
 * that wrote something gets the score `sentiment` (mean, −1..1); each with a
 * complaint gets `complaint` = 1, so a segment can list who to call back.
 */

const DAY = 86_400_000;
/** Enough text for stable themes; older feedback beyond it is left out (the newest is kept). */
const MAX_FEEDBACK = 50_000;

export interface FeedbackParams {
  /** how far back to look; default 90 days */
  days?: number;
}

export interface FeedbackReport {
  from: string;
  to: string;
  responses: number;
  /** true when the window held more than MAX_FEEDBACK pieces: the oldest were left out, and `from` is the oldest read */
  truncated: boolean;
  texts: number;
  /** −100..100, null without NPS answers */
  nps: number | null;
  npsResponses: number;
  /** % of CSAT answers that are 4 or 5, null without answers */
  csat: number | null;
  csatResponses: number;
  sentiment: { positive: number; neutral: number; negative: number; mean: number | null };
  themes: Array<{ key: string; name: string; en: string; zh: string; terms: string[]; documents: number; share: number; sentiment: number }>;
  keywords: Keyword[];
  complaints: number;
  /** the newest complaints, for follow-up */
  recentComplaints: Array<{ profileId: string; at: string; text: string; score: number; signals: string[] }>;
  /** by ISO week (its Monday) */
  trend: Array<{ week: string; responses: number; nps: number | null; csat: number | null; sentiment: number | null }>;
}

function weekOf(at: Date): string {
  const day = Math.floor(at.getTime() / DAY);
  // 1970-01-01 was a Thursday: Monday-based weeks start 3 days later in the cycle.
  const monday = day - ((day + 3) % 7);
  return new Date(monday * DAY).toISOString().slice(0, 10);
}

export async function runFeedback(db: Kysely<Schema>, workspaceId: string, params: FeedbackParams, now = new Date(), onStarted?: (id: string) => void): Promise<{ runId: string; result: FeedbackReport }> {
  const days = params.days ?? 90;
  if (!(Number.isInteger(days) && days >= 1 && days <= 3650)) throw new AnalyticsInputError('days', 'must be a whole number of days from 1 to 3650');
  const from = new Date(now.getTime() - days * DAY);
  return recorded(db, workspaceId, 'feedback', { days }, async (report) => {
    await report({ stage: 'load' }, true);
    const rows = await loadFeedback(db, workspaceId, from, now, MAX_FEEDBACK);
    await report({ stage: 'sentiment', done: 0, total: rows.length }, true);
    const counts: Record<SentimentLabel, number> = { positive: 0, neutral: 0, negative: 0 };
    const perProfile = new Map<string, { sum: number; n: number; complaint: boolean }>();
    const docs: Array<{ text: string }> = [];
    const complaints: FeedbackReport['recentComplaints'] = [];
    let complaintCount = 0;
    let sentimentSum = 0;
    const weeks = new Map<string, { nps: number[]; csat: number[]; sentiment: number[]; responses: number }>();
    rows.forEach((row, i) => {
      const week = weeks.get(weekOf(row.at)) ?? { nps: [], csat: [], sentiment: [], responses: 0 };
      weeks.set(weekOf(row.at), week);
      week.responses += 1;
      if (row.nps !== null) week.nps.push(row.nps);
      if (row.csat !== null) week.csat.push(row.csat);
      const text = row.text?.trim() ?? '';
      const s = text ? scoreSentiment(text) : null;
      const mine = perProfile.get(row.profileId) ?? { sum: 0, n: 0, complaint: false };
      perProfile.set(row.profileId, mine);
      if (s) {
        counts[s.label] += 1;
        sentimentSum += s.score;
        week.sentiment.push(s.score);
        docs.push({ text });
        mine.sum += s.score;
        mine.n += 1;
      }
      // The sender's own word counts too: feedback filed as a complaint is one, whatever its wording, even without text.
      if (s?.complaint || row.type === 'complaint') {
        mine.complaint = true;
        complaintCount += 1;
        if (complaints.length < 50) complaints.push({ profileId: row.profileId, at: row.at.toISOString(), text: text.slice(0, 500), score: s?.score ?? 0, signals: s?.signals ?? [] });
      }
      if (i % 1000 === 999) void report({ stage: 'sentiment', done: i + 1, total: rows.length });
    });
    await report({ stage: 'themes' }, true);
    const themes = extractThemes(docs, { topKeywords: 30, themes: 10 });
    await report({ stage: 'write' }, true);
    const profiles = [...perProfile.entries()];
    await replaceScores(db, workspaceId, [
      { name: 'sentiment', rows: profiles.filter(([, p]) => p.n > 0).map(([profileId, p]) => ({ profileId, value: Math.round((p.sum / p.n) * 1000) / 1000, label: null })) },
      { name: 'complaint', rows: profiles.filter(([, p]) => p.complaint).map(([profileId]) => ({ profileId, value: 1, label: null })) },
    ], now);
    const npsAnswers = rows.filter((r) => r.nps !== null).map((r) => r.nps!);
    const csatAnswers = rows.filter((r) => r.csat !== null).map((r) => r.csat!);
    const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    const truncated = rows.length === MAX_FEEDBACK;
    return {
      from: (truncated ? rows[rows.length - 1]!.at : from).toISOString(),
      truncated,
      to: now.toISOString(),
      responses: rows.length,
      texts: docs.length,
      nps: nps(npsAnswers),
      npsResponses: npsAnswers.length,
      csat: csat(csatAnswers),
      csatResponses: csatAnswers.length,
      sentiment: { ...counts, mean: docs.length > 0 ? sentimentSum / docs.length : null },
      themes: themes.themes.map((t) => ({ key: t.key, name: t.name, en: t.names.en, zh: t.names.zh, terms: t.terms, documents: t.documents, share: t.share, sentiment: t.sentiment })),
      keywords: themes.keywords,
      complaints: complaintCount,
      recentComplaints: complaints,
      trend: [...weeks.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([week, w]) => ({ week, responses: w.responses, nps: nps(w.nps), csat: csat(w.csat), sentiment: mean(w.sentiment) })),
    };
  }, onStarted);
}
