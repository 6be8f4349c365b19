import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimCoupons } from '../src/activate/coupons.js';
import { createModel } from '../src/analytics/model-training.js';
import { secretHash } from '../src/privacy/accounts.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/**
 * Workspaces isolate tenants (issue 9): workspace B's admin token is sent to
 * every route of the OpenAPI document, with workspace A's real ids in the
 * path and A's identifiers in queries and bodies. Nothing of A may come back,
 * and nothing of A may change. A route added without a row in ROUTES fails
 * the first test, so it cannot go unchecked.
 */

const A = 'default';
const B = 'tenant-b';
const B_TOKEN = 'ct_tenant_b_admin_token';
const B_WRITE_KEY = 'wk_tenant_b_write_key';
const A_PLAN_KEY = 'wk_tenant_a_shop_key';
const DAY = 86_400_000;

// Workspace A's data: distinctive, so finding any of them in an answer to B is a leak.
const EMAIL_A = 'aurelia.vantongeren.3310@example.org';
const NAME_A = 'Aurelia Vantongeren';
const USER_A = 'user-aurelia-7781';
const ANON_A = 'anon-aurelia-5521';
const PHONE_A = '+14155550142';
const EMAIL_A2 = 'bartholomew.quist.9920@example.org';
const NAME_A2 = 'Bartholomew Quistgaard';
const USER_A2 = 'user-barth-4410';
const CITY_A = 'Vantongerstad';
const TRAIT_A = 'aurelia_loyalty_tier';
const SEGMENT_A = 'Aurelia Loyalists';
const TAG_A = 'aurelia-vip';
const SOURCE_PLAN = 'shop-aurelia';
const SOURCE_HOOK = 'hook-aurelia';
const SOURCE_IMPORT = 'crm-aurelia';
const PLAN_EVENT = 'Aurelia Basket Checked';
const UNDECLARED_EVENT = 'Aurelia Undeclared Event';
const HOOK_USER = 'hook-aurelia-user';
const HOOK_EMAIL = 'hook.aurelia@example.org';
const CRM_ID = 'crm-aurelia-0091';
const CRM_EMAIL = 'crm.aurelia@example.org';
const IMPORT_FILE = 'aurelia-customers.csv';
const RETENTION_TRAIT = 'aurelia_secret_trait';
const GOVERNANCE_OWNER = 'aurelia-data-steward';
const ROLE_A = 'aurelia_auditor';
const STAFF_EMAIL = 'aurelia.staff@example.org';
const STAFF_NAME = 'Aurelia Staffmember';
const STAFF_PASSWORD = 'aurelia staff password 42';
const TOKEN_NAME = 'aurelia-integration-token';
const MODEL_A = 'aurelia_propensity';
const CONSENT_TEXT = 'aurelia-consent-v7';
const COMPLAINT = 'aurelia teapot arrived shattered';
const PRODUCT_A = 'Aurelia Teapot';
const CATEGORY_A = 'aurelia-kitchenware';
const BLOCKED_A = 'aurelia-blocked-id';
const REVENUE_A = '4242.42';
const DESTINATION_A = 'Aurelia Outbound Hook';
const DESTINATION_URL_A = 'https://hooks.example.org/aurelia-outbound-7731';
const COUPON_POOL_A = 'Aurelia Loyalty Coupons';
const COUPON_CODE_A = 'AURELIA-COUPON-5517';

const MARKERS = [
  EMAIL_A, 'vantongeren', NAME_A, USER_A, ANON_A, '4155550142', EMAIL_A2, 'quistgaard', USER_A2, CITY_A, TRAIT_A, SEGMENT_A, TAG_A,
  SOURCE_PLAN, SOURCE_HOOK, SOURCE_IMPORT, PLAN_EVENT, UNDECLARED_EVENT, HOOK_USER, HOOK_EMAIL, CRM_ID, CRM_EMAIL, IMPORT_FILE,
  RETENTION_TRAIT, GOVERNANCE_OWNER, ROLE_A, STAFF_EMAIL, STAFF_NAME, TOKEN_NAME, MODEL_A, CONSENT_TEXT, COMPLAINT, PRODUCT_A,
  CATEGORY_A, BLOCKED_A, REVENUE_A, DESTINATION_A, 'aurelia-outbound-7731', COUPON_POOL_A, COUPON_CODE_A, 'msg-aurelia-',
];
// Values B may legitimately send and keep as its own: sources and roles named like A's, and
// the e-mail typed at B's sign-in (B's audit log records a failed sign-in as typed). Once B has
// sent one in a change, it is B's as well.
const SHARED_NAMES = new Set([SOURCE_PLAN, SOURCE_HOOK, ROLE_A, STAFF_EMAIL]);

interface AIds {
  person: string;
  mergedAway: string;
  other: string;
  segment: string;
  tag: string;
  model: string;
  rfmRun: string;
  feedbackRun: string;
  importId: string;
  dsarAccess: string;
  dsarRestrict: string;
  retentionPolicy: string;
  retentionRun: string;
  user: string;
  token: string;
  identityRun: string;
  review: string;
  merge: string;
  /** a webhook destination of A, and a realtime sync of A's segment to it */
  destination: string;
  segmentSync: string;
  /** a triggered campaign of A with a journey step of A's person */
  journeyCampaign: string;
  /** a coupon pool of A holding COUPON_CODE_A, given to A's person */
  couponPool: string;
}

interface BIds {
  profile: string;
  tag: string;
}

interface Call {
  url: string;
  body?: unknown;
  raw?: { type: string; payload: string };
  /** who calls: B's admin token (default), B's write key, or nobody */
  as?: 'b-token' | 'b-key' | 'anonymous';
  /** the statuses this call may answer; absent: any (the leak checks hold regardless) */
  expect?: number[];
  /** more to check on the answer */
  check?: (res: LightMyRequestResponse) => string | null;
}

const verified = { method: 'email_link', by: 'tenant-b-desk' };
const json = (res: LightMyRequestResponse): Record<string, unknown> => res.json() as Record<string, unknown>;

/**
 * How B calls each documented route, keyed `METHOD /openapi/path`, with A's
 * ids in the path. A route answering for a thing only A has must say 404.
 */
function routeTable(a: AIds, b: BIds): Record<string, Call[]> {
  const month = new Date().toISOString().slice(0, 7);
  const nf = [404];
  const none = (field: string) => (res: LightMyRequestResponse) => (json(res)[field] === 0 ? null : `${field} should be 0, was ${String(json(res)[field])}`);
  return {
    'POST /api/auth/login': [{ url: '/api/auth/login', as: 'anonymous', body: { workspace: B, email: STAFF_EMAIL, password: STAFF_PASSWORD }, expect: [401] }],
    'POST /api/auth/logout': [{ url: '/api/auth/logout', as: 'anonymous', expect: [204] }],
    'GET /api/auth/me': [{ url: '/api/auth/me', expect: [200], check: (res) => (json(res).workspace === B ? null : 'me names another workspace') }],
    'POST /api/auth/password': [{ url: '/api/auth/password', body: { current: STAFF_PASSWORD, password: 'another long password' }, expect: [403] }],
    'GET /api/users': [{ url: '/api/users', expect: [200] }],
    'POST /api/users': [{ url: '/api/users', body: { email: 'b.probe.staff@example.com', role: 'analyst', password: 'tenant b password 123' }, expect: [201] }],
    'PATCH /api/users/{id}': [{ url: `/api/users/${a.user}`, body: { status: 'disabled', role: 'admin' }, expect: nf }],
    'DELETE /api/users/{id}': [{ url: `/api/users/${a.user}`, expect: nf }],
    'GET /api/roles': [{ url: '/api/roles', expect: [200] }],
    'PUT /api/roles/{name}': [{ url: `/api/roles/${ROLE_A}`, body: { permissions: ['audit.read'] }, expect: [200, 201] }],
    'DELETE /api/roles/{name}': [{ url: `/api/roles/${ROLE_A}`, expect: [204, 404] }],
    'GET /api/tokens': [{ url: '/api/tokens', expect: [200] }],
    'POST /api/tokens': [{ url: '/api/tokens', body: { name: 'b-probe-token', role: 'analyst' }, expect: [201] }],
    'DELETE /api/tokens/{id}': [
      { url: `/api/tokens/${a.token}`, expect: nf },
      { url: '/api/tokens/admin', expect: nf },
    ],

    'POST /v1/identify': [{ url: '/v1/identify', as: 'b-key', body: { userId: 'user-zeb-2', traits: { email: 'zeb.two@example.com' } }, expect: [200] }],
    'POST /v1/track': [{ url: '/v1/track', as: 'b-key', body: { userId: 'user-zeb-2', event: 'B Probe' }, expect: [200] }],
    'POST /v1/page': [{ url: '/v1/page', as: 'b-key', body: { userId: 'user-zeb-2', name: 'Home' }, expect: [200] }],
    'POST /v1/screen': [{ url: '/v1/screen', as: 'b-key', body: { userId: 'user-zeb-2', name: 'Home' }, expect: [200] }],
    'POST /v1/group': [{ url: '/v1/group', as: 'b-key', body: { userId: 'user-zeb-2', groupId: 'b-group' }, expect: [200] }],
    'POST /v1/alias': [{ url: '/v1/alias', as: 'b-key', body: { previousId: 'anon-zeb-2', userId: 'user-zeb-2' }, expect: [200] }],
    'POST /v1/batch': [{ url: '/v1/batch', as: 'b-key', body: { batch: [{ type: 'track', userId: 'user-zeb-2', event: 'B Probe 2' }] }, expect: [200] }],
    'POST /v1/webhook/{sourceId}': [
      { url: `/v1/webhook/${SOURCE_HOOK}`, as: 'b-key', body: { id: 'zeb-hook', email: 'zeb.hook@example.com' }, expect: [401] },
      { url: `/v1/webhook/${SOURCE_HOOK}?token=whsec_not_the_secret`, as: 'anonymous', body: { id: 'zeb-hook' }, expect: [401] },
    ],

    'GET /api/profiles': [
      { url: `/api/profiles?email=${encodeURIComponent(EMAIL_A)}`, expect: [200], check: emptyProfiles },
      { url: `/api/profiles?phone=${encodeURIComponent(PHONE_A)}`, expect: [200], check: emptyProfiles },
      { url: `/api/profiles?userId=${USER_A}`, expect: [200], check: emptyProfiles },
      { url: `/api/profiles?anonymousId=${ANON_A}`, expect: [200], check: emptyProfiles },
    ],
    'GET /api/profiles/export': [{ url: '/api/profiles/export', expect: [200] }],
    'GET /api/profiles/{id}': [
      { url: `/api/profiles/${a.person}`, expect: nf },
      { url: `/api/profiles/${a.mergedAway}`, expect: nf },
      { url: `/api/profiles/${a.other}`, expect: nf },
    ],
    'GET /api/profiles/{id}/events': [{ url: `/api/profiles/${a.person}/events`, expect: nf }],
    'GET /api/profiles/{id}/lineage': [{ url: `/api/profiles/${a.person}/lineage`, expect: nf }],
    'GET /api/profiles/{id}/consents': [{ url: `/api/profiles/${a.person}/consents`, expect: nf }],
    'POST /api/profiles/{id}/consents': [{ url: `/api/profiles/${a.person}/consents`, body: { purpose: 'email_marketing', granted: false, legalBasis: 'consent' }, expect: nf }],
    'POST /api/profiles/{id}/consent-links': [{ url: `/api/profiles/${a.person}/consent-links`, body: {}, expect: nf }],
    'POST /api/profiles/{id}/consent-links/revoke': [{ url: `/api/profiles/${a.person}/consent-links/revoke`, expect: nf }],
    'GET /api/profiles/{id}/recommendations': [{ url: `/api/profiles/${a.person}/recommendations`, expect: nf }],
    'POST /api/profiles/{id}/split': [
      { url: `/api/profiles/${a.person}/split`, body: { identities: [{ type: 'email', value: EMAIL_A }] }, expect: nf },
      { url: `/api/profiles/${a.person}/split`, body: { merge: a.merge }, expect: nf },
    ],
    'GET /api/campaigns/{id}/journey': [
      { url: `/api/campaigns/${a.journeyCampaign}/journey`, expect: nf },
      { url: `/api/campaigns/${a.journeyCampaign}/journey?profileId=${a.person}`, expect: nf },
    ],
    'GET /api/campaigns/{id}/report': [{ url: `/api/campaigns/${a.journeyCampaign}/report`, expect: nf }],
    'GET /api/campaigns': [{ url: '/api/campaigns?limit=500', expect: [200], check: (res) => ((json(res).campaigns as Array<{ id: string }>).some((c) => c.id === a.journeyCampaign) ? 'A’s campaign listed' : null) }],
    'POST /api/campaigns': [
      { url: '/api/campaigns', body: { name: 'b probe campaign', channel: 'webhook', segmentId: a.segment, destinationId: a.destination, template: { body: 'hi' }, schedule: { kind: 'once' } }, expect: [400] },
    ],
    'GET /api/campaigns/{id}': [{ url: `/api/campaigns/${a.journeyCampaign}`, expect: nf }],
    'PATCH /api/campaigns/{id}': [{ url: `/api/campaigns/${a.journeyCampaign}`, body: { name: 'b renamed it' }, expect: nf }],
    'DELETE /api/campaigns/{id}': [{ url: `/api/campaigns/${a.journeyCampaign}`, expect: nf }],
    'POST /api/campaigns/{id}/launch': [{ url: `/api/campaigns/${a.journeyCampaign}/launch`, expect: nf }],
    'POST /api/campaigns/{id}/pause': [{ url: `/api/campaigns/${a.journeyCampaign}/pause`, expect: nf }],
    'POST /api/campaigns/{id}/stop': [{ url: `/api/campaigns/${a.journeyCampaign}/stop`, expect: nf }],
    'POST /api/campaigns/{id}/archive': [{ url: `/api/campaigns/${a.journeyCampaign}/archive`, expect: nf }],
    'GET /api/campaigns/{id}/sends': [{ url: `/api/campaigns/${a.journeyCampaign}/sends`, expect: nf }],
    'POST /api/campaigns/{id}/preview': [
      { url: `/api/campaigns/${a.journeyCampaign}/preview`, body: {}, expect: nf },
      { url: `/api/campaigns/${a.journeyCampaign}/preview`, body: { profileIds: [a.person] }, expect: nf },
    ],
    'GET /api/profiles/{id}/campaigns': [{ url: `/api/profiles/${a.person}/campaigns`, expect: nf }],
    'GET /api/coupon-pools': [{ url: '/api/coupon-pools', expect: [200], check: (res) => ((json(res).pools as Array<{ id: string }>).some((p) => p.id === a.couponPool) ? 'A’s pool listed' : null) }],
    'POST /api/coupon-pools': [{ url: '/api/coupon-pools', body: { name: 'b-probe-pool' }, expect: [201] }],
    'GET /api/coupon-pools/{id}': [{ url: `/api/coupon-pools/${a.couponPool}`, expect: nf }],
    'POST /api/coupon-pools/{id}/codes': [
      { url: `/api/coupon-pools/${a.couponPool}/codes`, body: { codes: ['B-PROBE-CODE'] }, expect: nf },
      { url: `/api/coupon-pools/${a.couponPool}/codes`, body: { generate: { count: 5 } }, expect: nf },
    ],
    'GET /api/profiles/{id}/merges': [{ url: `/api/profiles/${a.person}/merges`, expect: [200], check: (res) => ((json(res).merges as unknown[]).length === 0 ? null : 'merges of A listed') }],
    'POST /api/profiles/merge': [
      { url: '/api/profiles/merge', body: { into: a.person, from: [a.other] }, expect: nf },
      { url: '/api/profiles/merge', body: { into: b.profile, from: [a.person] }, expect: nf },
    ],

    'GET /api/segments': [{ url: '/api/segments', expect: [200] }],
    'POST /api/segments': [
      { url: '/api/segments', body: { name: 'B probe by segment', rule: { segment: a.segment } }, expect: [400] },
      { url: '/api/segments', body: { name: 'B probe by tag', rule: { tag: TAG_A } }, expect: [400] },
      { url: '/api/segments', body: { name: 'B probe everyone', rule: { trait: 'email', op: 'exists' } }, expect: [201] },
    ],
    'POST /api/segments/preview': [
      { url: '/api/segments/preview', body: { rule: { trait: 'city', op: 'eq', value: CITY_A } }, expect: [200], check: none('count') },
      { url: '/api/segments/preview', body: { rule: { event: 'Order Completed' } }, expect: [200] },
      { url: '/api/segments/preview', body: { rule: { segment: a.segment } }, expect: [400] },
    ],
    'POST /api/segments/refresh': [{ url: '/api/segments/refresh', expect: [200] }],
    'GET /api/segments/{id}': [{ url: `/api/segments/${a.segment}`, expect: nf }],
    'PATCH /api/segments/{id}': [{ url: `/api/segments/${a.segment}`, body: { name: 'B renamed it' }, expect: nf }],
    'DELETE /api/segments/{id}': [{ url: `/api/segments/${a.segment}`, expect: nf }],
    'POST /api/segments/{id}/refresh': [{ url: `/api/segments/${a.segment}/refresh`, expect: nf }],
    'GET /api/segments/{id}/members': [
      { url: `/api/segments/${a.segment}/members`, expect: nf },
      { url: `/api/segments/${a.segment}/members?format=csv`, expect: nf },
    ],
    'GET /api/membership-changes': [
      { url: '/api/membership-changes', expect: [200] },
      { url: `/api/membership-changes?set=${a.segment}`, expect: [200], check: noChanges },
      { url: `/api/membership-changes?profile=${a.person}`, expect: [200], check: noChanges },
    ],
    'GET /api/tags': [{ url: '/api/tags', expect: [200] }],
    'POST /api/tags': [{ url: '/api/tags', body: { name: 'b-probe-rule-tag', definition: { kind: 'rule', rule: { segment: a.segment } } }, expect: [400] }],
    'GET /api/tags/{id}': [{ url: `/api/tags/${a.tag}`, expect: nf }],
    'PATCH /api/tags/{id}': [{ url: `/api/tags/${a.tag}`, body: { name: 'b renamed it' }, expect: nf }],
    'DELETE /api/tags/{id}': [{ url: `/api/tags/${a.tag}`, expect: nf }],
    'POST /api/tags/{id}/profiles': [
      { url: `/api/tags/${a.tag}/profiles`, body: { profileIds: [a.person] }, expect: nf },
      { url: `/api/tags/${b.tag}/profiles`, body: { profileIds: [a.person, a.other] }, expect: [200], check: none('changed') },
      { url: `/api/tags/${b.tag}/profiles`, body: { segment: a.segment }, expect: nf },
    ],
    'POST /api/tags/{id}/profiles/remove': [
      { url: `/api/tags/${a.tag}/profiles/remove`, body: { profileIds: [a.person] }, expect: nf },
      { url: `/api/tags/${b.tag}/profiles/remove`, body: { segment: a.segment }, expect: nf },
    ],
    'POST /api/tags/{id}/profiles/csv': [
      { url: `/api/tags/${a.tag}/profiles/csv`, raw: { type: 'text/csv', payload: `id\n${a.person}\n` }, expect: nf },
      { url: `/api/tags/${b.tag}/profiles/csv`, raw: { type: 'text/csv', payload: `id\n${a.person}\n${a.other}\n` }, expect: [200], check: none('changed') },
    ],

    'GET /api/destinations': [{ url: '/api/destinations', expect: [200] }],
    'POST /api/destinations': [{ url: '/api/destinations', body: { name: 'B probe hook', kind: 'webhook', config: { url: 'http://127.0.0.1:9/b-probe' } }, expect: [201] }],
    'GET /api/destinations/{id}': [{ url: `/api/destinations/${a.destination}`, expect: nf }],
    'PATCH /api/destinations/{id}': [{ url: `/api/destinations/${a.destination}`, body: { name: 'B renamed it', config: { url: 'http://127.0.0.1:9/b' } }, expect: nf }],
    'DELETE /api/destinations/{id}': [{ url: `/api/destinations/${a.destination}`, expect: nf }],
    'POST /api/destinations/{id}/rotate-secret': [{ url: `/api/destinations/${a.destination}/rotate-secret`, expect: nf }],
    'POST /api/destinations/{id}/test': [{ url: `/api/destinations/${a.destination}/test`, expect: nf }],
    'GET /api/segment-syncs': [
      { url: '/api/segment-syncs', expect: [200] },
      { url: `/api/segment-syncs?segment=${a.segment}`, expect: [200], check: (res) => ((json(res).syncs as unknown[]).length === 0 ? null : 'syncs of A listed') },
    ],
    'POST /api/segment-syncs': [
      { url: '/api/segment-syncs', body: { segmentId: a.segment, destinationId: a.destination, mode: 'realtime' }, expect: [400] },
      { url: '/api/segment-syncs', body: { segmentId: a.segment, destinationId: a.destination, mode: 'scheduled', format: 'csv', everyHours: 1 }, expect: [400] },
    ],
    'GET /api/segment-syncs/{id}': [{ url: `/api/segment-syncs/${a.segmentSync}`, expect: nf }],
    'PATCH /api/segment-syncs/{id}': [{ url: `/api/segment-syncs/${a.segmentSync}`, body: { enabled: false }, expect: nf }],
    'DELETE /api/segment-syncs/{id}': [{ url: `/api/segment-syncs/${a.segmentSync}`, expect: nf }],
    'POST /api/segment-syncs/{id}/run': [{ url: `/api/segment-syncs/${a.segmentSync}/run`, expect: nf }],

    'GET /api/analytics/rfm': [{ url: '/api/analytics/rfm', expect: [200] }],
    'POST /api/analytics/rfm/refresh': [{ url: '/api/analytics/rfm/refresh', body: { wait: true }, expect: [200] }],
    'GET /api/analytics/features': [{ url: '/api/analytics/features', expect: [200] }],
    'POST /api/analytics/clusters': [{ url: '/api/analytics/clusters', body: { k: 2, wait: true }, expect: [200] }],
    'POST /api/analytics/tree': [{ url: '/api/analytics/tree', body: { target: { segment: a.segment }, features: ['frequency'], wait: true }, expect: [400] }],
    'GET /api/analytics/clv': [{ url: '/api/analytics/clv' }],
    'POST /api/analytics/clv': [{ url: '/api/analytics/clv', body: { wait: true }, expect: [200] }],
    'POST /api/analytics/models': [{ url: '/api/analytics/models', body: { name: 'b_probe_model', target: { kind: 'segment', segment: a.segment }, wait: true }, expect: [400] }],
    'GET /api/analytics/models': [{ url: '/api/analytics/models', expect: [200] }],
    'GET /api/analytics/models/{id}': [{ url: `/api/analytics/models/${a.model}`, expect: nf }],
    'DELETE /api/analytics/models/{id}': [{ url: `/api/analytics/models/${a.model}`, expect: nf }],
    'POST /api/analytics/models/{id}/train': [{ url: `/api/analytics/models/${a.model}/train`, body: { wait: true }, expect: nf }],
    'GET /api/analytics/association-rules': [{ url: '/api/analytics/association-rules?minSupport=0.1&minConfidence=0' }],
    'GET /api/analytics/recommender': [{ url: '/api/analytics/recommender' }],
    'POST /api/analytics/recommender': [{ url: '/api/analytics/recommender', body: { wait: true }, expect: [200] }],
    'GET /api/analytics/feedback': [{ url: '/api/analytics/feedback' }],
    'POST /api/analytics/feedback': [{ url: '/api/analytics/feedback', body: { days: 365, wait: true } }],
    'GET /api/analytics/runs': [
      { url: '/api/analytics/runs', expect: [200] },
      { url: '/api/analytics/runs?kind=feedback', expect: [200] },
    ],
    'GET /api/analytics/runs/{id}': [
      { url: `/api/analytics/runs/${a.rfmRun}`, expect: nf },
      { url: `/api/analytics/runs/${a.feedbackRun}`, expect: nf },
    ],
    'GET /api/analytics/kpis': [
      { url: '/api/analytics/kpis', expect: [200] },
      { url: `/api/analytics/kpis?segment=${a.segment}`, expect: nf },
    ],
    'GET /api/analytics/report': [
      { url: `/api/analytics/report?month=${month}&format=csv&fresh=true`, expect: [200] },
      { url: `/api/analytics/report?month=${month}`, expect: [200] },
    ],

    'GET /api/governance/fields': [{ url: '/api/governance/fields', expect: [200] }],
    'PUT /api/governance/fields/{field}': [{ url: '/api/governance/fields/email', body: { owner: 'tenant-b-steward' }, expect: [200] }],
    'GET /api/governance/retention': [{ url: '/api/governance/retention', expect: [200] }],
    // A's old orders would go if B's policy reached them.
    'PUT /api/governance/retention': [{ url: '/api/governance/retention', body: { kind: 'event', name: 'Order Completed', days: 1, action: 'delete' }, expect: [200] }],
    'DELETE /api/governance/retention/{id}': [{ url: `/api/governance/retention/${a.retentionPolicy}`, expect: nf }],
    'POST /api/governance/retention/run': [{ url: '/api/governance/retention/run', expect: [200] }],
    'GET /api/governance/retention/runs': [{ url: '/api/governance/retention/runs', expect: [200], check: (res) => (JSON.stringify(res.json()).includes(a.retentionRun) ? 'A’s retention run listed' : null) }],

    'GET /api/quality': [{ url: '/api/quality', expect: [200] }],
    'GET /api/quality/issues': [{ url: '/api/quality/issues', expect: [200] }],
    'GET /api/quality/alerts': [{ url: '/api/quality/alerts', expect: [200] }],
    'POST /api/quality/audit': [{ url: '/api/quality/audit', body: {}, expect: [200] }],
    'GET /api/settings/cleaning': [{ url: '/api/settings/cleaning', expect: [200] }],
    'PUT /api/settings/cleaning': [{ url: '/api/settings/cleaning', body: { countries: ['JP'] }, expect: [200] }],
    'GET /api/sources/{id}/cleaning': [{ url: `/api/sources/${SOURCE_PLAN}/cleaning` }],
    'PUT /api/sources/{id}/cleaning': [{ url: `/api/sources/${SOURCE_PLAN}/cleaning`, body: { countries: ['JP'] }, expect: [200] }],
    'POST /api/clean': [{ url: '/api/clean', body: { traits: { email: 'Probe@Example.com' }, source: SOURCE_PLAN } }],

    'GET /api/settings/identity': [{ url: '/api/settings/identity', expect: [200] }],
    'PUT /api/settings/identity': [{ url: '/api/settings/identity', body: { blocklist: ['tenant-b-blocked'] }, expect: [200] }],
    'POST /api/identity/resolve': [{ url: '/api/identity/resolve', body: { full: true, wait: true }, expect: [200] }],
    'GET /api/identity/runs': [{ url: '/api/identity/runs', expect: [200] }],
    'GET /api/identity/runs/{id}': [{ url: `/api/identity/runs/${a.identityRun}`, expect: nf }],
    'GET /api/identity/reviews': [{ url: '/api/identity/reviews', expect: [200], check: (res) => (json(res).total === 0 ? null : 'reviews listed') }],
    'POST /api/identity/reviews/{id}/approve': [{ url: `/api/identity/reviews/${a.review}/approve`, expect: nf }],
    'POST /api/identity/reviews/{id}/reject': [{ url: `/api/identity/reviews/${a.review}/reject`, expect: nf }],
    // 409 while B has no fitted model yet, whoever the ids name.
    'GET /api/identity/explain': [{ url: `/api/identity/explain?a=${a.person}&b=${a.other}`, expect: [404, 409] }],
    'GET /api/identity/conflicts': [{ url: '/api/identity/conflicts', expect: [200] }],

    'PUT /api/sources/{id}/tracking-plan': [{ url: `/api/sources/${SOURCE_PLAN}/tracking-plan`, body: { mode: 'allow', events: [{ event: 'B Probe' }] }, expect: [200] }],
    'GET /api/sources/{id}/tracking-plan': [{ url: `/api/sources/${SOURCE_PLAN}/tracking-plan` }],
    'DELETE /api/sources/{id}/tracking-plan': [{ url: `/api/sources/${SOURCE_PLAN}/tracking-plan` }],
    'GET /api/sources/{id}/violations': [{ url: `/api/sources/${SOURCE_PLAN}/violations` }],
    'PUT /api/sources/{id}/webhook-mapping': [{ url: `/api/sources/${SOURCE_HOOK}/webhook-mapping`, body: { messages: [{ type: 'track', fields: { userId: '$.id', event: 'B Hook' } }] }, expect: [200] }],
    'GET /api/sources/{id}/webhook-mapping': [{ url: `/api/sources/${SOURCE_HOOK}/webhook-mapping` }],
    'POST /api/sources/{id}/webhook-mapping/test': [{ url: `/api/sources/${SOURCE_HOOK}/webhook-mapping/test`, body: { sample: { id: 'zeb-sample' } } }],
    'GET /api/catalog/events': [{ url: '/api/catalog/events', expect: [200] }],

    'GET /api/audit': [
      { url: '/api/audit', expect: [200] },
      { url: `/api/audit?profile=${a.person}`, expect: [200], check: (res) => ((json(res).entries as unknown[]).length === 0 ? null : 'audit entries of A’s profile listed') },
    ],
    'GET /api/audit/verify': [{ url: '/api/audit/verify', expect: [200], check: (res) => (json(res).workspaceId === B ? null : 'verified another workspace') }],

    'POST /api/dsar': [
      { url: '/api/dsar', body: { type: 'access', identifier: { type: 'email', value: EMAIL_A }, verification: verified }, expect: nf },
      { url: '/api/dsar', body: { type: 'erase', identifier: { type: 'profileId', value: a.person }, verification: verified }, expect: nf },
      { url: '/api/dsar', body: { type: 'restrict', identifier: { type: 'userId', value: USER_A } }, expect: nf },
      { url: '/api/dsar', body: { type: 'rectify', identifier: { type: 'phone', value: PHONE_A }, traits: { name: 'Overwritten by B' } }, expect: nf },
    ],
    'GET /api/dsar': [{ url: '/api/dsar', expect: [200] }],
    'GET /api/dsar/{id}': [
      { url: `/api/dsar/${a.dsarAccess}`, expect: nf },
      { url: `/api/dsar/${a.dsarRestrict}`, expect: nf },
    ],
    'POST /api/dsar/{id}/lift': [{ url: `/api/dsar/${a.dsarRestrict}/lift`, body: { reason: 'tenant b tries', informed: true }, expect: nf }],
    'GET /api/dsar/{id}/archive': [{ url: `/api/dsar/${a.dsarAccess}/archive`, expect: nf }],
    'GET /api/dsar/{id}/archive.csv': [{ url: `/api/dsar/${a.dsarAccess}/archive.csv?part=traits`, expect: nf }],

    'POST /api/imports': [{ url: '/api/imports?source=b-crm&filename=b.csv', raw: { type: 'application/octet-stream', payload: 'id,email,name\nb-crm-1,b.crm@example.com,Bertha Crm\n' }, expect: [201] }],
    'GET /api/imports': [{ url: '/api/imports', expect: [200] }],
    'GET /api/imports/{id}': [{ url: `/api/imports/${a.importId}`, expect: nf }],

    'GET /health': [{ url: '/health', as: 'anonymous', expect: [200] }],
    'GET /metrics': [{ url: '/metrics', as: 'anonymous', expect: [200] }],
  };
}

function emptyProfiles(res: LightMyRequestResponse): string | null {
  return (json(res).profiles as unknown[]).length === 0 ? null : 'a profile was found';
}

function noChanges(res: LightMyRequestResponse): string | null {
  return (json(res).changes as unknown[]).length === 0 ? null : 'membership changes of A listed';
}

describe.each(backends)('workspace isolation ($name)', (backend) => {
  let t: TestApp;
  let a: AIds;
  let b: BIds;
  let needles: string[] = [];
  let documented: string[] = [];

  const as = (token: string) => (method: string, url: string, body?: unknown) =>
    t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  const asA = as(ADMIN_TOKEN);
  const asB = as(B_TOKEN);
  const basic = (key: string) => 'Basic ' + Buffer.from(`${key}:`).toString('base64');
  const sendWith = (key: string, path: string, body: unknown) =>
    t.app.inject({ method: 'POST', url: path, headers: { authorization: basic(key), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const ok = async (res: Promise<LightMyRequestResponse>, status = 200) => {
    const done = await res;
    expect(done.statusCode, done.body).toBe(status);
    return done.json() as Record<string, unknown> & { id: string };
  };

  /** Every row of a workspace, table by table: a count and a digest, so any change shows. */
  async function snapshot(workspaceId: string): Promise<Record<string, string>> {
    const db = t.database.db;
    const { rows: tables } = await sql<{ table_name: string }>`
      select c.table_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
      where c.table_schema = current_schema() and c.column_name = 'workspace_id'
      order by c.table_name`.execute(db);
    const out: Record<string, string> = {};
    for (const { table_name } of tables) {
      const { rows } = await sql<{ n: string; digest: string | null }>`
        select count(*)::text as n, md5(string_agg(x::text, '|' order by x::text)) as digest from ${sql.table(table_name)} x where x.workspace_id = ${workspaceId}`.execute(db);
      out[table_name] = `${rows[0]!.n} ${rows[0]!.digest ?? '-'}`;
    }
    const { rows } = await sql<{ digest: string }>`select md5(w::text) as digest from workspaces w where w.id = ${workspaceId}`.execute(db);
    out.workspaces = rows[0]?.digest ?? '-';
    return out;
  }

  beforeAll(async () => {
    t = await startTestApp(backend);
    const db = t.database.db;
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * DAY).toISOString();

    // ---------------------------------------------------------------- workspace B
    await db.insertInto('workspaces').values({ id: B, name: 'Tenant B', settings: '{}' }).execute();
    await db.insertInto('sources').values({ workspace_id: B, id: 'b-web', name: 'b-web', write_key_hash: secretHash(B_WRITE_KEY) }).execute();
    await db.insertInto('api_tokens').values({ workspace_id: B, id: 'b-admin', name: 'b-admin', token_hash: secretHash(B_TOKEN), role: 'admin', created_by: 'test' }).execute();

    // ---------------------------------------------------------------- workspace A, through the API and the pipeline
    await db.insertInto('sources').values({ workspace_id: A, id: SOURCE_PLAN, name: SOURCE_PLAN, write_key_hash: secretHash(A_PLAN_KEY) }).execute();
    expect((await t.send('/v1/identify', { messageId: 'msg-aurelia-0', anonymousId: ANON_A, traits: { [TRAIT_A]: 'gold', city: CITY_A } })).statusCode).toBe(200);
    await t.drain();
    const batch = await t.send('/v1/batch', {
      batch: [
        { type: 'identify', messageId: 'msg-aurelia-1', userId: USER_A, traits: { email: EMAIL_A, name: NAME_A, phone: PHONE_A, city: CITY_A, [RETENTION_TRAIT]: 'x' } },
        { type: 'track', messageId: 'msg-aurelia-2', userId: USER_A, event: 'Order Completed', timestamp: ago(20), properties: { revenue: 4242.42, order_id: 'ord-aurelia-1', products: [{ name: PRODUCT_A, category: CATEGORY_A }, { name: 'Aurelia Teacup', category: CATEGORY_A }] } },
        { type: 'track', messageId: 'msg-aurelia-3', userId: USER_A, event: 'Order Completed', timestamp: ago(10), properties: { revenue: 17, order_id: 'ord-aurelia-2', products: [{ name: PRODUCT_A }] } },
        { type: 'track', messageId: 'msg-aurelia-4', userId: USER_A, event: 'Feedback Submitted', timestamp: ago(5), properties: { feedback_type: 'complaint', comment: COMPLAINT } },
        { type: 'track', messageId: 'msg-aurelia-5', userId: USER_A, event: 'Survey Responded', timestamp: ago(5), properties: { nps: 3 } },
        { type: 'identify', messageId: 'msg-aurelia-6', userId: USER_A2, traits: { email: EMAIL_A2, name: NAME_A2, city: CITY_A, phone: '12' } },
        { type: 'track', messageId: 'msg-aurelia-7', userId: USER_A2, event: 'Order Completed', timestamp: ago(3), properties: { revenue: 99, order_id: 'ord-aurelia-3', products: [{ name: PRODUCT_A }, { name: 'Aurelia Teacup' }] } },
      ],
    });
    expect(batch.statusCode, batch.body).toBe(200);
    await t.drain();
    // Signing in on the device makes the anonymous visitor and the customer one profile.
    expect((await t.send('/v1/identify', { messageId: 'msg-aurelia-9', userId: USER_A, anonymousId: ANON_A })).statusCode).toBe(200);
    await t.drain();
    const found = (await ok(asA('GET', `/api/profiles?email=${encodeURIComponent(EMAIL_A)}`))).profiles as Array<{ id: string; mergedFrom: string[] }>;
    const other = (await ok(asA('GET', `/api/profiles?email=${encodeURIComponent(EMAIL_A2)}`))).profiles as Array<{ id: string }>;
    expect(found[0]?.mergedFrom).toHaveLength(1);
    const merge = await db.selectFrom('profile_merges').select('id').where('workspace_id', '=', A).executeTakeFirstOrThrow();

    await ok(asA('PUT', `/api/sources/${SOURCE_PLAN}/tracking-plan`, { mode: 'allow', events: [{ event: PLAN_EVENT, properties: { basket_id: { type: 'string' } } }] }));
    expect((await sendWith(A_PLAN_KEY, '/v1/track', { messageId: 'msg-aurelia-8', userId: USER_A, event: UNDECLARED_EVENT })).statusCode).toBe(200);
    const hook = await ok(asA('PUT', `/api/sources/${SOURCE_HOOK}/webhook-mapping`, { messages: [{ type: 'identify', fields: { userId: '$.id', 'traits.email': '$.email' } }] }));
    expect((await t.app.inject({ method: 'POST', url: `/v1/webhook/${SOURCE_HOOK}?token=${String(hook.secret)}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ id: HOOK_USER, email: HOOK_EMAIL }) })).statusCode).toBe(200);
    const imported = await t.app.inject({
      method: 'POST',
      url: `/api/imports?source=${SOURCE_IMPORT}&filename=${IMPORT_FILE}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
      payload: `id,email,name,city\n${CRM_ID},${CRM_EMAIL},Aurelia Crmperson,${CITY_A}\n,,,\n`,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    await t.drain();

    const segment = await ok(asA('POST', '/api/segments', { name: SEGMENT_A, rule: { trait: 'city', op: 'eq', value: CITY_A } }), 201);
    expect(segment.size).toBeGreaterThanOrEqual(2);
    const tag = await ok(asA('POST', '/api/tags', { name: TAG_A, definition: { kind: 'manual' } }), 201);
    await ok(asA('POST', `/api/tags/${tag.id}/profiles`, { profileIds: [found[0]!.id] }));
    await ok(asA('POST', `/api/profiles/${found[0]!.id}/consents`, { purpose: 'email_marketing', granted: true, legalBasis: 'consent', textVersion: CONSENT_TEXT }));
    const rfm = await ok(asA('POST', '/api/analytics/rfm/refresh', { wait: true }));
    const feedback = await ok(asA('POST', '/api/analytics/feedback', { days: 365, wait: true }));
    expect(JSON.stringify(feedback.result)).toContain(COMPLAINT);
    const model = await createModel(db, A, { name: MODEL_A, target: { kind: 'segment', segment: segment.id } });
    const policy = await ok(asA('PUT', '/api/governance/retention', { kind: 'trait', name: RETENTION_TRAIT, days: 3650, action: 'delete' }));
    const retentionRun = await ok(asA('POST', '/api/governance/retention/run'));
    await ok(asA('PUT', '/api/governance/fields/email', { owner: GOVERNANCE_OWNER }));
    await ok(asA('PUT', `/api/roles/${ROLE_A}`, { permissions: ['audit.read'], description: 'aurelia auditors' }), 201);
    const user = await ok(asA('POST', '/api/users', { email: STAFF_EMAIL, name: STAFF_NAME, role: ROLE_A, password: STAFF_PASSWORD }), 201);
    const token = (await ok(asA('POST', '/api/tokens', { name: TOKEN_NAME, role: ROLE_A }), 201)).token as { id: string };
    await ok(asA('PUT', '/api/settings/identity', { blocklist: [BLOCKED_A] }));
    await ok(asA('PUT', '/api/settings/cleaning', { countries: ['NZ', 'US'] }));
    await ok(asA('PUT', `/api/sources/${SOURCE_PLAN}/cleaning`, { countries: ['NZ'], dateOrder: 'dmy' }));
    const identityRun = await ok(asA('POST', '/api/identity/resolve', { wait: true }));
    const review = await db
      .insertInto('identity_reviews')
      .values({ workspace_id: A, profile_a: found[0]!.id, profile_b: other[0]!.id, probability: 0.8, weight: 2, status: 'pending', created_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const access = await ok(asA('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: EMAIL_A }, verification: { method: 'email_link', by: 'a-desk' } }), 201);
    const restrict = await ok(asA('POST', '/api/dsar', { type: 'restrict', identifier: { type: 'userId', value: USER_A2 } }), 201);
    await ok(asA('POST', '/api/quality/audit', {}));
    expect((await asA('GET', `/api/dsar/${access.id}/archive`)).body).toContain(NAME_A);
    const destination = await ok(asA('POST', '/api/destinations', { name: DESTINATION_A, kind: 'webhook', config: { url: DESTINATION_URL_A } }), 201);
    const segmentSync = await ok(asA('POST', '/api/segment-syncs', { segmentId: segment.id, destinationId: destination.id, mode: 'realtime' }), 201);
    // A's journey: a triggered campaign and a step its person took, so a journey read across workspaces would show.
    const journeyCampaign = randomUUID();
    await db
      .insertInto('campaigns')
      .values({
        workspace_id: A, id: journeyCampaign, name: 'Aurelia detractor follow-up', status: 'paused', channel: 'webhook', purpose: 'personalization', destination_id: 'aurelia-hook',
        template: JSON.stringify({ body: 'hi' }), schedule: JSON.stringify({ kind: 'triggered', trigger: { on: 'event', event: 'Survey Responded' }, waitMinutes: 60 }), control_percent: 0, segment_id: null,
      })
      .execute();
    await db.insertInto('journey_steps').values({ workspace_id: A, campaign_id: journeyCampaign, profile_id: found[0]!.id, step: 'triggered', at: new Date(), details: JSON.stringify({ event: 'Survey Responded' }) }).execute();
    // …and a message it sent A's person, so a campaign history read across workspaces would show.
    await db.insertInto('campaign_sends').values({ workspace_id: A, campaign_id: journeyCampaign, profile_id: found[0]!.id, arm: 'treatment', status: 'sent', reason: null, next_attempt_at: new Date(), queued_at: new Date(), sent_at: new Date(), coupon_code: COUPON_CODE_A }).execute();
    const couponPool = await ok(asA('POST', '/api/coupon-pools', { name: COUPON_POOL_A }), 201);
    await ok(asA('POST', `/api/coupon-pools/${couponPool.id}/codes`, { codes: [COUPON_CODE_A, 'AURELIA-COUPON-5518'] }));
    await claimCoupons(db, A, couponPool.id, [found[0]!.id], 'campaign:aurelia', new Date());

    a = {
      person: found[0]!.id,
      mergedAway: found[0]!.mergedFrom[0]!,
      other: other[0]!.id,
      segment: segment.id,
      tag: tag.id,
      model: model.id,
      rfmRun: rfm.id,
      feedbackRun: feedback.id,
      importId: (imported.json() as { id: string }).id,
      dsarAccess: access.id,
      dsarRestrict: restrict.id,
      retentionPolicy: policy.id,
      retentionRun: retentionRun.id,
      user: user.id,
      token: token.id,
      identityRun: identityRun.id,
      review: String(review.id),
      merge: String(merge.id),
      destination: destination.id,
      segmentSync: segmentSync.id,
      journeyCampaign,
      couponPool: couponPool.id,
    };

    // ---------------------------------------------------------------- workspace B's own data
    // Enough customers and baskets that B's analytics really run (and write B's scores) during the sweep.
    const goods = ['Zebulon Kettle', 'Zebulon Mug', 'Zebulon Spoon'];
    const bPeople = Array.from({ length: 12 }, (_, i) => [
      { type: 'identify', userId: `user-zeb-${i + 1}`, traits: { email: `zebulon.${i + 1}@example.com`, name: `Zebulon Brightwater ${i + 1}`, city: 'Brightport' } },
      ...Array.from({ length: 2 + (i % 3) }, (_, n) => ({
        type: 'track',
        userId: `user-zeb-${i + 1}`,
        event: 'Order Completed',
        timestamp: ago(40 + i * 7 + n * 30),
        properties: { revenue: 10 + i + n, order_id: `zeb-${i}-${n}`, products: [{ name: goods[(i + n) % 3] }, { name: goods[(i + n + 1) % 3] }] },
      })),
    ]).flat();
    const bBatch = await sendWith(B_WRITE_KEY, '/v1/batch', { batch: bPeople });
    expect(bBatch.statusCode, bBatch.body).toBe(200);
    await t.drain();
    const zeb = (await ok(asB('GET', '/api/profiles?userId=user-zeb-1'))).profiles as Array<{ id: string }>;
    // A's data has its scores too, so a score written across workspaces would show.
    await ok(asA('POST', '/api/analytics/rfm/refresh', { wait: true }));
    await ok(asB('POST', '/api/segments', { name: 'Zebulon Fans', rule: { trait: 'city', op: 'eq', value: 'Brightport' } }), 201);
    const bTag = await ok(asB('POST', '/api/tags', { name: 'b-manual', definition: { kind: 'manual' } }), 201);
    b = { profile: zeb[0]!.id, tag: bTag.id };

    // Ids shorter than a UUID (serial numbers) would match by chance; the markers cover those rows.
    needles = [...MARKERS, ...Object.values(a).filter((id) => id.length >= 32)];
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('has a row for every documented route, and none for a route that is gone', () => {
    const table = routeTable(a, b);
    expect(documented.length).toBeGreaterThan(100);
    expect(documented.filter((key) => !(key in table)), 'routes with no row in routeTable: add one').toEqual([]);
    expect(Object.keys(table).filter((key) => !documented.includes(key)), 'rows for routes the OpenAPI document no longer has').toEqual([]);
  });

  it('B’s admin token reads nothing of A and changes nothing of A, on every route', { timeout: 600_000 }, async () => {
    const table = routeTable(a, b);
    const before = await snapshot(A);
    // Enough of A is there for "unchanged" to mean something.
    for (const table of ['profiles', 'events', 'segments', 'segment_members', 'tags', 'profile_tags', 'profile_scores', 'profile_consents', 'analytics_runs', 'analytics_models', 'imports', 'import_rejects', 'dsar_requests', 'restricted_profiles', 'retention_policies', 'tracking_plans', 'tracking_plan_violations', 'webhook_mappings', 'users', 'roles', 'api_tokens', 'audit_log', 'identity_reviews', 'identity_runs', 'profile_merges', 'field_governance']) {
      expect(before[table], table).toMatch(/^[1-9]/);
    }
    const problems: string[] = [];
    const usedNames = new Set<string>();
    const safe = (key: string) => key.startsWith('GET ');
    // Reads first, then every write, then the reads again: what B wrote must not open a way into A either.
    const order = [...documented.filter(safe), ...documented.filter((k) => !safe(k)), ...documented.filter(safe)];
    for (const key of order) {
      const method = key.slice(0, key.indexOf(' '));
      for (const c of table[key] ?? []) {
        const headers: Record<string, string> = {};
        if ((c.as ?? 'b-token') === 'b-token') headers.authorization = `Bearer ${B_TOKEN}`;
        else if (c.as === 'b-key') headers.authorization = basic(B_WRITE_KEY);
        let payload: string | undefined;
        if (c.raw) {
          headers['content-type'] = c.raw.type;
          payload = c.raw.payload;
        } else if (c.body !== undefined) {
          headers['content-type'] = 'application/json';
          payload = JSON.stringify(c.body);
        }
        const res = await t.app.inject({ method: method as 'GET', url: c.url, headers, ...(payload !== undefined ? { payload } : {}) });
        const label = `${method} ${c.url}${payload ? ` ${payload.slice(0, 120)}` : ''} → ${res.statusCode}`;
        if (c.expect && !c.expect.includes(res.statusCode)) problems.push(`${label}: expected ${c.expect.join(' or ')}: ${res.body.slice(0, 300)}`);
        if (res.statusCode >= 500) problems.push(`${label}: ${res.body.slice(0, 300)}`);
        // What B sent may come back to it; anything else of A's may not.
        const asked = decodeURIComponent(c.url + (payload ?? '')).toLowerCase();
        const answer = (JSON.stringify(res.headers) + res.body).toLowerCase();
        const leaked = needles.filter((n) => !asked.includes(n.toLowerCase()) && !usedNames.has(n) && answer.includes(n.toLowerCase()));
        if (leaked.length > 0) problems.push(`${label}: leaks ${leaked.join(', ')}`);
        if (c.check && res.statusCode < 300) {
          const problem = c.check(res);
          if (problem) problems.push(`${label}: ${problem}`);
        }
        if (method !== 'GET') for (const name of SHARED_NAMES) if (asked.includes(name.toLowerCase())) usedNames.add(name);
      }
    }
    await t.drain();
    expect(problems).toEqual([]);
    expect(await snapshot(A)).toEqual(before);
  });

  it('B’s write key writes into B only, even naming A’s people and reusing A’s message ids', async () => {
    const before = await snapshot(A);
    const res = await sendWith(B_WRITE_KEY, '/v1/batch', {
      batch: [
        { type: 'identify', messageId: 'msg-aurelia-1', userId: USER_A, anonymousId: ANON_A, traits: { email: EMAIL_A, name: 'Impostor Name' } },
        { type: 'track', messageId: 'msg-aurelia-2', userId: USER_A, event: 'Order Completed', properties: { revenue: 1 } },
        { type: 'alias', messageId: 'b-alias-1', previousId: USER_A2, userId: USER_A },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    // A's messages with these ids do not make B's duplicates.
    expect(res.json()).toMatchObject({ accepted: 3, duplicates: 0 });
    // Segment's other way to give the key: writeKey in the body.
    const inBody = await t.app.inject({ method: 'POST', url: '/v1/track', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ writeKey: B_WRITE_KEY, messageId: 'msg-aurelia-3', userId: USER_A, event: 'Order Completed', properties: { revenue: 2 } }) });
    expect(inBody.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    await t.drain();
    expect(await snapshot(A)).toEqual(before);

    const bPerson = ((await ok(asB('GET', `/api/profiles?email=${encodeURIComponent(EMAIL_A)}`))).profiles as Array<{ id: string; traits: Record<string, unknown> }>)[0]!;
    expect(bPerson.traits.name).toBe('Impostor Name');
    expect([a.person, a.mergedAway, a.other]).not.toContain(bPerson.id);
    const events = (await ok(asB('GET', `/api/profiles/${bPerson.id}/events`))).events as Array<{ messageId: string }>;
    expect(events.map((e) => e.messageId)).toEqual(expect.arrayContaining(['msg-aurelia-1', 'msg-aurelia-2', 'msg-aurelia-3']));
    const aPerson = ((await ok(asA('GET', `/api/profiles?email=${encodeURIComponent(EMAIL_A)}`))).profiles as Array<{ id: string; traits: Record<string, unknown> }>)[0]!;
    expect(aPerson).toMatchObject({ id: a.person, traits: { name: NAME_A } });
    // B's key cannot post to A's webhook, nor A's key to B's profiles.
    expect((await sendWith(B_WRITE_KEY, `/v1/webhook/${SOURCE_HOOK}`, { id: HOOK_USER })).statusCode).toBe(401);
    expect((await asA('GET', `/api/profiles/${bPerson.id}`)).statusCode).toBe(404);
  });
});
