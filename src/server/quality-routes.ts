import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { isCountryCode } from '../clean/country.js';
import { cleanTraits, STANDARD_FIELDS } from '../clean/traits.js';
import { sourceNameProblem } from '../collect/sources.js';
import { maskFieldFor, viewerSees, type Viewer } from '../privacy/mask.js';
import { auditQuality } from '../quality/audit.js';
import type { QualityReporter } from '../quality/report.js';
import type { CleaningSettingsStore } from '../collect/cleaning-settings.js';
import type { Database } from '../storage/database.js';
import { ApiError } from './errors.js';

const Ratio = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const FieldQuality = Type.Object({
  field: Type.String(),
  source: Type.Union([Type.String(), Type.Null()], { description: 'null: across every source' }),
  profiles: Type.Integer({ description: 'profiles with a value for the field' }),
  completeness: Ratio("share of the source's profiles that have the field"),
  validity: Ratio('share of the values that passed their standardizer'),
  uniqueness: Type.Union([Ratio('share of values no other profile holds'), Type.Null()], { description: 'identifying fields (email, phone, nationalId) only' }),
  consistency: Type.Union([Ratio('share of profiles whose sources agree, among those with the field from two or more sources'), Type.Null()], {
    description: 'fields a person has one value of (name, firstName, lastName, birthday, gender, nationalId), across sources only',
  }),
  freshness: Ratio('1 while the newest value is less than a day old, falling linearly to 0 at 30 days'),
  lastSeenAt: Type.String({ format: 'date-time' }),
  score: Type.Number({ minimum: 0, maximum: 100 }),
});
const Report = Type.Object({
  score: Type.Number({ minimum: 0, maximum: 100, description: 'workspace quality score' }),
  profiles: Type.Integer(),
  fields: Type.Array(FieldQuality),
  bySource: Type.Array(FieldQuality),
  generatedAt: Type.String({ format: 'date-time' }),
});
const Issue = Type.Object({
  source: Type.String(),
  field: Type.String(),
  code: Type.String({ description: 'issue or flag id, e.g. phone.invalid, email.domain_typo' }),
  severity: Type.Union([Type.Literal('error'), Type.Literal('warning')], { description: 'error: the value was refused; warning: kept but worth a look' }),
  count: Type.Integer(),
  firstSeenAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  examples: Type.Array(Type.Object({ value: Type.Unknown({ description: 'masked for identifier fields' }), suggestion: Type.Optional(Type.Unknown()), messageId: Type.String() })),
});
const Alert = Type.Object({
  id: Type.String(),
  source: Type.String(),
  field: Type.String({ description: "'*' for the source's message volume" }),
  kind: Type.Union([Type.Literal('volume'), Type.Literal('null_rate'), Type.Literal('invalid_rate')]),
  day: Type.String({ format: 'date' }),
  value: Type.Number(),
  median: Type.Number({ description: 'median of the 28 days before' }),
  mad: Type.Number({ description: 'median absolute deviation of those days' }),
  score: Type.Number({ description: '|value − median| / MAD' }),
  direction: Type.String(),
  createdAt: Type.Optional(Type.String({ format: 'date-time' })),
});
const Country = Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' });
const WorkspaceCleaning = Type.Object(
  {
    countries: Type.Optional(Type.Array(Country, { minItems: 1, maxItems: 20, description: 'tried in order for national-format phones and addresses, after the source’s own; default CN, US' })),
    fixEmailTypos: Type.Optional(Type.Boolean({ description: 'apply suggested fixes for obvious email domain typos; default false (flag only)' })),
  },
  { additionalProperties: false },
);
const SourceCleaning = Type.Object(
  {
    countries: Type.Optional(Type.Array(Country, { minItems: 1, maxItems: 20, description: "this source's customers' countries, tried first" })),
    dateOrder: Type.Optional(Type.Union([Type.Literal('dmy'), Type.Literal('mdy')], { description: 'how the source writes 03/05/1990; unset: such dates are refused as ambiguous' })),
  },
  { additionalProperties: false },
);
const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const SourceParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256, description: 'source id' }) });

export interface QualityRoutesDeps {
  database: Database;
  reporter: QualityReporter;
  settings: CleaningSettingsStore;
}

/** Data quality (/api/quality), the cleaning policy, and cleaning on demand (/api/clean). Bearer token. */
/** Countries upper-cased, each a real ISO 3166-1 code: a typo here would quietly stop national numbers from parsing. */
function withCheckedCountries<T extends { countries?: string[] }>(policy: T): T {
  if (!policy.countries) return policy;
  const upper = policy.countries.map((c) => c.toUpperCase());
  const unknown = upper.findIndex((c) => !isCountryCode(c));
  if (unknown >= 0) throw new ApiError('CUSTODIAN_INVALID_FIELD', `countries/${unknown}: ${upper[unknown]} is not an ISO 3166-1 alpha-2 country code`, `countries.${unknown}`);
  return { ...policy, countries: upper };
}

/**
 * Issue examples as this viewer may see them. The reporter masks identifiers
 * for everyone (a data steward needs the shape of a bad phone, not the phone);
 * quasi values, such as a city cleaning did not know, are masked here for roles
 * without them. Identifiers count as seen so they are not masked twice.
 */
function examplesFor<T extends { field: string; examples: Array<{ value: unknown; suggestion?: unknown }> }>(issue: T, viewer: Viewer): T {
  if (viewerSees(viewer, 'quasi')) return issue;
  const quasiOnly: Viewer = { unmasked: ['identifier'] };
  return {
    ...issue,
    examples: issue.examples.map((e) => ({
      ...e,
      value: maskFieldFor(issue.field, e.value, quasiOnly),
      ...(e.suggestion !== undefined ? { suggestion: maskFieldFor(issue.field, e.suggestion, quasiOnly) } : {}),
    })),
  };
}

export const qualityRoutes: FastifyPluginAsync<QualityRoutesDeps> = async (app, { database, reporter, settings }) => {

  app.get('/api/quality', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['quality'],
      summary: 'Data quality per field and per source: completeness, validity, uniqueness, consistency, freshness, and a workspace score',
      description: 'Computed from what the pipeline has observed since cleaning began, one latest value per profile, field and source.',
      security,
      response: { 200: Report, ...errors },
    },
  }, async (request) => reporter.report(request.caller.workspaceId));

  app.get('/api/quality/issues', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['quality'],
      summary: 'What cleaning refused or flagged, by source, field and issue, most frequent first, with examples',
      security,
      querystring: Type.Object({
        field: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        source: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        type: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'an issue id (phone.invalid), a family (phone), or error / warning' })),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
      }),
      response: { 200: Type.Object({ issues: Type.Array(Issue) }), ...errors },
    },
  }, async (request) => ({
    issues: (await reporter.issues(request.caller.workspaceId, request.query as { field?: string; source?: string; type?: string; limit: number })).map((issue) => examplesFor(issue, request.caller.role)),
  }));

  app.get('/api/quality/alerts', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['quality'],
      summary: 'Anomalies the daily audit raised: volume, null rate or invalid rate more than 4 MADs from its 28-day median',
      security,
      querystring: Type.Object({
        source: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        since: Type.Optional(Type.String({ format: 'date', description: 'YYYY-MM-DD, first day' })),
        until: Type.Optional(Type.String({ format: 'date', description: 'YYYY-MM-DD, last day' })),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
      }),
      response: { 200: Type.Object({ alerts: Type.Array(Alert) }), ...errors },
    },
  }, async (request) => ({ alerts: await reporter.alerts(request.caller.workspaceId, request.query as { source?: string; since?: string; until?: string; limit: number }) }));

  app.post('/api/quality/audit', {
    config: { access: 'analytics.run' },
    schema: {
      tags: ['quality'],
      summary: 'Run the anomaly audit now for one day (default yesterday, UTC); it also runs every hour',
      security,
      body: Type.Object({ day: Type.Optional(Type.String({ format: 'date', description: 'YYYY-MM-DD' })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ day: Type.String(), alerts: Type.Array(Alert) }), ...errors },
    },
  }, async (request) => {
    const body = (request.body ?? {}) as { day?: string };
    const { day } = await auditQuality(database, { workspaceId: request.caller.workspaceId, ...(body.day ? { day: body.day } : {}) });
    // The day's alerts as stored: raised now or by an earlier run.
    return { day, alerts: await reporter.alerts(request.caller.workspaceId, { since: day, until: day, limit: 1000 }) };
  });

  app.get('/api/settings/cleaning', {
    config: { access: 'settings.read' },
    schema: { tags: ['quality'], summary: "The workspace's cleaning policy", security, response: { 200: WorkspaceCleaning, ...errors } },
  }, async (request) => settings.workspace(request.caller.workspaceId));

  app.put('/api/settings/cleaning', {
    config: { access: 'settings.write' },
    schema: { tags: ['quality'], summary: "Set the workspace's cleaning policy (applies from the next batch)", security, body: WorkspaceCleaning, response: { 200: WorkspaceCleaning, ...errors } },
  }, async (request) => {
    const policy = withCheckedCountries(request.body as { countries?: string[]; fixEmailTypos?: boolean });
    await settings.setWorkspace(request.caller.workspaceId, policy);
    return policy;
  });

  app.get('/api/sources/:id/cleaning', {
    config: { access: 'settings.read' },
    schema: { tags: ['sources'], summary: "A source's cleaning settings", security, params: SourceParams, response: { 200: SourceCleaning, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const found = await settings.source(request.caller.workspaceId, id);
    if (!found) throw new ApiError('CUSTODIAN_NOT_FOUND', `no source ${id}`, 'id');
    return found;
  });

  app.put('/api/sources/:id/cleaning', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['sources'],
      summary: "Set a source's cleaning settings (creates the source if needed): its countries and date order",
      security,
      params: SourceParams,
      body: SourceCleaning,
      response: { 200: SourceCleaning, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const problem = sourceNameProblem(id);
    if (problem) throw new ApiError('CUSTODIAN_INVALID_FIELD', problem, 'id');
    const policy = withCheckedCountries(request.body as { countries?: string[]; dateOrder?: 'dmy' | 'mdy' });
    await settings.setSource(request.caller.workspaceId, id, policy);
    return policy;
  });

  app.post('/api/clean', {
    config: { access: 'settings.read' },
    schema: {
      tags: ['quality'],
      summary: 'Standardize traits without storing anything: what the pipeline would keep, change, refuse and derive',
      description: `Standard fields: ${STANDARD_FIELDS.join(', ')}. Other traits pass through unchanged.`,
      security,
      body: Type.Object(
        {
          traits: Type.Record(Type.String(), Type.Unknown(), { description: 'as an identify call would send them' }),
          source: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "use this source's cleaning settings" })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          traits: Type.Record(Type.String(), Type.Unknown()),
          derived: Type.Record(Type.String(), Type.Unknown()),
          lineage: Type.Array(Type.Record(Type.String(), Type.Unknown())),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const { traits, source } = request.body as { traits: Record<string, unknown>; source?: string };
    if (source !== undefined && (await settings.source(request.caller.workspaceId, source)) === null) throw new ApiError('CUSTODIAN_NOT_FOUND', `no source ${source}`, 'source');
    const context = await settings.context(request.caller.workspaceId, source ?? '');
    const { lineage, derived, traits: cleaned } = cleanTraits(traits, context);
    return { traits: cleaned, derived, lineage: lineage.map((entry) => ({ ...entry })) };
  });
};
