import { change, type CohortRow, type KpiFigures } from './kpis.js';

/**
 * The monthly management report as HTML (self-contained: inline CSS and SVG,
 * no scripts, no web fonts, printable to PDF from a browser) and as CSV.
 * Pure: report-data.ts gathers the MonthlyReport. Everything that came from
 * users (segment names, themes) is escaped on the way out.
 */

export type ReportLang = 'en' | 'zh-CN';
export type ReportFormat = 'html' | 'csv';

export interface TrendPoint {
  month: string;
  revenue: number;
  orders: number;
  activeCustomers: number;
  nps: number | null;
}

export interface RfmSection {
  computedAt: string | null;
  customers: number | null;
  segments: Array<{ segment: string; nameZh: string | null; customers: number; share: number | null; revenue: number | null }>;
}

export interface ClvSection {
  computedAt: string | null;
  customers: number | null;
  meanClv: number | null;
  totalClv: number | null;
  distribution: Array<{ lower: number; upper: number; count: number }>;
}

export interface ChurnRiskSection {
  profiles: number;
  mean: number;
  /** ten bins of 0.1 from 0 to 1 */
  bins: number[];
}

export interface FeedbackSection {
  computedAt: string | null;
  nps: number | null;
  csat: number | null;
  sentiment: { positive: number; neutral: number; negative: number } | null;
  themes: Array<{ name: string; en: string | null; zh: string | null; documents: number | null; share: number | null; sentiment: number | string | null }>;
  complaints: number | null;
}

/** One campaign that sent messages in the month, from its campaign report (activate's campaignReport). */
export interface CampaignRow {
  id: string;
  name: string;
  channel: string;
  currency: string;
  /** messages sent in the month (by sent_at): why the campaign is in this month's report */
  sentInMonth: number;
  /** the rest is the campaign's whole life up to the section's asOf */
  sent: number;
  skipped: number;
  /** the most frequent skip reasons, most first (at most three) */
  topSkipReasons: Array<{ reason: string; count: number }>;
  /** people held out */
  control: number;
  treatment: { people: number; converted: number; rate: number | null };
  /** null: the campaign had no control group */
  controlArm: { people: number; converted: number; rate: number | null } | null;
  /** treatment rate − control rate as a fraction (0.04 is 4 points); null without a control group */
  uplift: { absolute: number; pValue: number; significant: boolean } | null;
  /** last touch */
  attributedOrders: number;
  attributedRevenue: number;
  cost: number;
  /** (attributed revenue − cost) / cost; null when the campaign cost nothing */
  roi: number | null;
}

export interface CampaignsSection {
  /** the instant the campaign reports were taken at */
  asOf: string;
  /** how many campaigns sent messages in the month; rows holds the first MAX_CAMPAIGN_ROWS of them */
  count: number;
  /** by attributed revenue, most first */
  rows: CampaignRow[];
  /** every campaign of the month, not only the rows shown */
  total: {
    sentInMonth: number;
    sent: number;
    skipped: number;
    control: number;
    attributedOrders: number;
    /** null when the campaigns count in more than one currency: such sums mean nothing */
    attributedRevenue: number | null;
    cost: number | null;
    roi: number | null;
    currency: string | null;
  };
}

/** A month with more campaigns lists the ones that earned most; the total still covers all. */
export const MAX_CAMPAIGN_ROWS = 20;

/** The p-value under which a campaign's uplift is marked significant. */
export const SIGNIFICANCE = 0.05;

export interface MonthlyReport {
  workspaceId: string;
  /** YYYY-MM */
  month: string;
  previousMonth: string;
  generatedAt: string;
  current: KpiFigures;
  previous: KpiFigures;
  /** the twelve months ending with `month`, oldest first */
  trend: TrendPoint[];
  /** first-purchase cohorts of those twelve months */
  cohorts: CohortRow[];
  segments: Array<{ id: string; name: string; size: number }>;
  /** null: never computed */
  rfm: RfmSection | null;
  clv: ClvSection | null;
  churnRisk: ChurnRiskSection | null;
  feedback: FeedbackSection | null;
  /** null: the report was gathered without a campaign source (reports kept before campaigns existed) */
  campaigns: CampaignsSection | null;
  quality: { score: number; profiles: number } | null;
}

// ── Words ───────────────────────────────────────────────────────────────────

const WORDS = {
  en: {
    title: 'Monthly management report',
    workspace: 'Workspace',
    generated: 'Generated',
    kpis: 'Key figures',
    metric: 'Figure',
    month: 'Month',
    previous: 'Previous month',
    change: 'Change',
    customersTotal: 'Customers (total)',
    customersActive: 'Active customers',
    customersNew: 'New customers',
    buyers: 'Buyers',
    orders: 'Orders',
    revenue: 'Revenue',
    aov: 'Average order value',
    frequency: 'Purchase frequency (orders per buyer)',
    repeat: 'Repeat-purchase rate',
    churn: 'Churn rate',
    cltvHistoric: 'CLTV, historic (revenue to date per buyer)',
    cltvPredicted: 'CLTV, predicted (mean clv score)',
    nps: 'NPS',
    npsResponses: 'NPS responses',
    csat: 'CSAT',
    csatResponses: 'CSAT responses',
    campaignRoi: 'Campaign ROI',
    trends: '12-month trends',
    trendRevenue: 'Revenue',
    trendActive: 'Active customers',
    trendNps: 'NPS',
    cohorts: 'Cohort retention',
    cohortsNote: 'Customers by the month of their first purchase; each cell is the share of the cohort buying that many months later.',
    cohort: 'Cohort',
    size: 'Customers',
    monthsAfter: 'Months after first purchase',
    segments: 'Segments',
    segment: 'Segment',
    noSegments: 'No segments defined yet.',
    rfm: 'RFM segments',
    share: 'Share',
    computedAt: 'Computed',
    clv: 'Customer lifetime value (predicted)',
    clvCustomers: 'Customers scored',
    clvMean: 'Mean CLV',
    clvTotal: 'Total CLV',
    range: 'Range',
    count: 'Customers',
    churnRisk: 'Churn risk',
    churnRiskNote: 'Profiles by churn-risk score, in ten bins from 0 to 1.',
    profiles: 'Profiles',
    meanRisk: 'Mean risk',
    feedback: 'Customer feedback',
    sentiment: 'Sentiment',
    positive: 'Positive',
    neutral: 'Neutral',
    negative: 'Negative',
    themes: 'Themes',
    theme: 'Theme',
    documents: 'Mentions',
    complaints: 'Complaints',
    campaigns: 'Campaigns',
    campaignsNotCounted: 'Campaigns were not counted when this report was kept.',
    noCampaigns: 'No campaign sent messages in {month}.',
    campaignsNote:
      'Campaigns that sent messages in {month}, by attributed revenue ({shown} of {count} shown; the total row covers all {count}). “Sent in month” counts the month’s messages only; every other figure is the campaign’s whole life as of {asOf}, as its campaign report gives it: messages sent after the month are included, and a campaign whose attribution windows are still open may gain conversions and revenue.',
    campaignsDefinitions:
      'Converted: people with an order within the attribution window after the message (the control group: after they were held out). Uplift: treatment rate − control rate in percentage points; * significant at p < 0.05 (two-sided). Revenue: orders attributed by last touch. ROI: (attributed revenue − cost) / cost. docs/attribution.md.',
    campaign: 'Campaign',
    channel: 'Channel',
    currency: 'Currency',
    sentInMonth: 'Sent in month',
    sentTotal: 'Sent (all)',
    skipped: 'Skipped',
    controlGroup: 'Control group',
    treatmentGroup: 'Treatment group',
    convertedTreatment: 'Converted (treatment)',
    convertedControl: 'Converted (control)',
    rateTreatment: 'Conversion rate (treatment)',
    rateControl: 'Conversion rate (control)',
    uplift: 'Uplift',
    pValue: 'p-value',
    significant: 'Significant (p < 0.05)',
    attributedOrders: 'Attributed orders',
    attributedRevenue: 'Attributed revenue',
    cost: 'Cost',
    roi: 'ROI',
    total: 'Total',
    ordersCount: 'Orders: {n}',
    notComputed: 'Not computed yet.',
    quality: 'Data quality',
    qualityScore: 'Workspace quality score (0–100)',
    definitions: 'Definitions of every figure: docs/kpis.md. Days are UTC.',
    none: '–',
  },
  'zh-CN': {
    title: '月度经营报告',
    workspace: '工作区',
    generated: '生成时间',
    kpis: '关键指标',
    metric: '指标',
    month: '本月',
    previous: '上月',
    change: '变化',
    customersTotal: '客户总数',
    customersActive: '活跃客户',
    customersNew: '新客户',
    buyers: '购买客户',
    orders: '订单数',
    revenue: '销售额',
    aov: '客单价',
    frequency: '购买频次（每位购买客户的订单数）',
    repeat: '复购率',
    churn: '流失率',
    cltvHistoric: '历史客户终身价值（至今每位购买客户的销售额）',
    cltvPredicted: '预测客户终身价值（clv 评分均值）',
    nps: '净推荐值（NPS）',
    npsResponses: 'NPS 回复数',
    csat: '满意度（CSAT）',
    csatResponses: 'CSAT 回复数',
    campaignRoi: '营销活动投资回报率',
    trends: '近 12 个月趋势',
    trendRevenue: '销售额',
    trendActive: '活跃客户',
    trendNps: '净推荐值',
    cohorts: '同期群留存',
    cohortsNote: '按首次购买月份分组；每格为该组在之后第 N 个月仍有购买的客户占比。',
    cohort: '同期群',
    size: '客户数',
    monthsAfter: '首次购买后月数',
    segments: '客户分群',
    segment: '分群',
    noSegments: '尚未定义分群。',
    rfm: 'RFM 分群',
    share: '占比',
    computedAt: '计算时间',
    clv: '客户终身价值（预测）',
    clvCustomers: '已评分客户',
    clvMean: '平均 CLV',
    clvTotal: 'CLV 合计',
    range: '区间',
    count: '客户数',
    churnRisk: '流失风险',
    churnRiskNote: '按流失风险评分（0 到 1，分 10 档）统计的客户数。',
    profiles: '客户数',
    meanRisk: '平均风险',
    feedback: '客户反馈',
    sentiment: '情感倾向',
    positive: '正面',
    neutral: '中性',
    negative: '负面',
    themes: '主题',
    theme: '主题',
    documents: '提及次数',
    complaints: '投诉数',
    campaigns: '营销活动',
    campaignsNotCounted: '保存本报告时未统计营销活动。',
    noCampaigns: '{month} 没有营销活动发送消息。',
    campaignsNote:
      '{month} 发送过消息的营销活动，按归因销售额排序（共 {count} 个，显示 {shown} 个；合计行包含全部 {count} 个）。“本月发送”只计本月的消息；其余各项均为活动自开始至 {asOf} 的全部数据，与活动报告一致：包括本月之后发送的消息，归因窗口尚未结束的活动其转化和销售额可能还会增加。',
    campaignsDefinitions:
      '转化：消息发送后归因窗口内下单的人（对照组：自被留出时起）。提升：实验组转化率 − 对照组转化率，单位为百分点；* 表示在 p < 0.05 水平上显著（双侧检验）。归因销售额：按末次触达归因的订单。投资回报率：（归因销售额 − 成本）/ 成本。详见 docs/attribution.md。',
    campaign: '营销活动',
    channel: '渠道',
    currency: '币种',
    sentInMonth: '本月发送',
    sentTotal: '累计发送',
    skipped: '跳过',
    controlGroup: '对照组人数',
    treatmentGroup: '实验组人数',
    convertedTreatment: '转化人数（实验组）',
    convertedControl: '转化人数（对照组）',
    rateTreatment: '转化率（实验组）',
    rateControl: '转化率（对照组）',
    uplift: '提升',
    pValue: 'p 值',
    significant: '显著（p < 0.05）',
    attributedOrders: '归因订单数',
    attributedRevenue: '归因销售额',
    cost: '成本',
    roi: '投资回报率',
    total: '合计',
    ordersCount: '订单数：{n}',
    notComputed: '尚未计算。',
    quality: '数据质量',
    qualityScore: '工作区数据质量评分（0–100）',
    definitions: '各指标定义见 docs/kpis.md。日期按 UTC 计。',
    none: '–',
  },
} as const satisfies Record<ReportLang, Record<string, string>>;

type Word = keyof (typeof WORDS)['en'];

/** `{name}` in a phrase replaced by its value; the word order of a phrase differs between languages. */
const fill = (text: string, values: Record<string, string | number>): string => text.replace(/\{(\w+)\}/g, (whole, key: string) => String(values[key] ?? whole));

/** Skip reasons as the outbox records them (activate's SKIP_REASONS); a reason not listed shows as recorded. */
const SKIP_REASON_WORDS: Record<ReportLang, Record<string, string>> = {
  en: {
    no_consent: 'no consent',
    consent_withdrawn: 'consent withdrawn',
    restricted: 'processing restricted',
    erased: 'erased',
    frequency_cap: 'frequency cap',
    no_address: 'no address',
    merged: 'merged',
    coupons_exhausted: 'coupons used up',
    campaign_stopped: 'campaign stopped',
  },
  'zh-CN': {
    no_consent: '未获同意',
    consent_withdrawn: '已撤回同意',
    restricted: '已限制处理',
    erased: '已删除',
    frequency_cap: '频次上限',
    no_address: '无联系方式',
    merged: '已合并',
    coupons_exhausted: '优惠券已发完',
    campaign_stopped: '活动已停止',
  },
};

/** Channels (activate's CHANNELS); one not listed shows as recorded. */
const CHANNEL_WORDS: Record<ReportLang, Record<string, string>> = {
  en: { email: 'Email', sms: 'SMS', wechat: 'WeChat', webhook: 'Webhook', ads: 'Ads' },
  'zh-CN': { email: '邮件', sms: '短信', wechat: '微信', webhook: 'Webhook', ads: '广告' },
};

const skipReason = (lang: ReportLang, reason: string): string => SKIP_REASON_WORDS[lang][reason] ?? reason;
const channelName = (lang: ReportLang, channel: string): string => CHANNEL_WORDS[lang][channel] ?? channel;

/** Three decimals read well for the p-values that matter; below that only "very small" matters. */
const pValueText = (p: number): string => (p < 0.001 ? '< 0.001' : p.toFixed(3));

// ── Formatting ──────────────────────────────────────────────────────────────

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

type Kind = 'count' | 'money' | 'share' | 'score' | 'ratio';

function formatter(lang: ReportLang) {
  const cache = new Map<number, Intl.NumberFormat>();
  const fixed = (digits: number) => {
    let f = cache.get(digits);
    if (!f) cache.set(digits, (f = new Intl.NumberFormat(lang === 'zh-CN' ? 'zh-CN' : 'en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
    return f;
  };
  return (value: number | null | undefined, kind: Kind): string => {
    if (value === null || value === undefined || !Number.isFinite(value)) return WORDS[lang].none;
    switch (kind) {
      case 'count':
        return fixed(0).format(value);
      case 'money':
        return fixed(2).format(value);
      case 'share':
        return `${fixed(1).format(value * 100)}%`;
      case 'score':
        return fixed(1).format(value);
      case 'ratio':
        return fixed(2).format(value);
    }
  };
}

/** The KPI rows: key (CSV), label, value in the month and the month before, how to show it. */
function kpiRows(r: MonthlyReport): Array<{ key: string; word: Word; kind: Kind; current: number | null; previous: number | null }> {
  const row = (key: string, word: Word, kind: Kind, pick: (f: KpiFigures) => number | null) => ({ key, word, kind, current: pick(r.current), previous: pick(r.previous) });
  return [
    row('customers_total', 'customersTotal', 'count', (f) => f.customers.total),
    row('customers_active', 'customersActive', 'count', (f) => f.customers.active),
    row('customers_new', 'customersNew', 'count', (f) => f.customers.new),
    row('buyers', 'buyers', 'count', (f) => f.customers.buyers),
    row('orders', 'orders', 'count', (f) => f.orders),
    row('revenue', 'revenue', 'money', (f) => f.revenue),
    row('average_order_value', 'aov', 'money', (f) => f.averageOrderValue),
    row('purchase_frequency', 'frequency', 'ratio', (f) => f.purchaseFrequency),
    row('repeat_purchase_rate', 'repeat', 'share', (f) => f.repeatPurchaseRate),
    row('churn_rate', 'churn', 'share', (f) => f.churnRate),
    row('cltv_historic', 'cltvHistoric', 'money', (f) => f.cltv.historic),
    row('cltv_predicted', 'cltvPredicted', 'money', (f) => f.cltv.predicted),
    row('nps', 'nps', 'score', (f) => f.nps),
    row('nps_responses', 'npsResponses', 'count', (f) => f.npsResponses),
    row('csat', 'csat', 'score', (f) => f.csat),
    row('csat_responses', 'csatResponses', 'count', (f) => f.csatResponses),
    row('campaign_roi', 'campaignRoi', 'ratio', (f) => f.campaignRoi),
  ];
}

// ── Charts ──────────────────────────────────────────────────────────────────

interface Point {
  label: string;
  value: number | null;
}

const CHART = { width: 640, height: 200, left: 64, right: 12, top: 14, bottom: 30 };

/** The next round number at or above x (1, 2, 2.5, 5 × a power of ten), so the axis labels read cleanly. */
function nice(x: number): number {
  if (x <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= x) return m * power;
  return 10 * power;
}

/** Axis bounds that include zero, so bars and lines are read against it. */
function bounds(values: number[]): [number, number] {
  const lo = -nice(-Math.min(0, ...values));
  const hi = nice(Math.max(0, ...values));
  return lo === hi ? [0, 1] : [lo, hi];
}

function chartFrame(title: string, lo: number, hi: number, y: (v: number) => number, show: (v: number) => string, body: string, points: Point[], x: (i: number) => number): string {
  const { width, height, left, right, bottom } = CHART;
  const ticks = [...new Set([lo, 0, hi])];
  const grid = ticks.map((v) => `<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(show(v))}</text>`).join('');
  const labels = points.map((p, i) => `<text x="${x(i).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${escapeHtml(p.label)}</text>`).join('');
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${grid}${body}${labels}</svg>`;
}

function barChart(title: string, points: Point[], show: (v: number) => string): string {
  const { width, height, left, right, top, bottom } = CHART;
  const values = points.map((p) => p.value ?? 0);
  const [lo, hi] = bounds(values);
  const y = (v: number) => top + ((hi - v) / (hi - lo)) * (height - top - bottom);
  const slot = (width - left - right) / Math.max(1, points.length);
  const x = (i: number) => left + slot * (i + 0.5);
  const bars = points
    .map((p, i) => {
      if (p.value === null) return '';
      const [a, b] = [y(Math.max(0, p.value)), y(Math.min(0, p.value))];
      return `<rect x="${(x(i) - slot * 0.35).toFixed(1)}" y="${a.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${Math.max(0.5, b - a).toFixed(1)}" class="bar"><title>${escapeHtml(`${p.label}: ${show(p.value)}`)}</title></rect>`;
    })
    .join('');
  return chartFrame(title, lo, hi, y, show, bars, points, x);
}

/** A line broken where a value is missing (a month without survey answers has no NPS). */
function lineChart(title: string, points: Point[], show: (v: number) => string, domain?: [number, number]): string {
  const { width, height, left, right, top, bottom } = CHART;
  const [lo, hi] = domain ?? bounds(points.flatMap((p) => (p.value === null ? [] : [p.value])));
  const y = (v: number) => top + ((hi - v) / (hi - lo)) * (height - top - bottom);
  const step = (width - left - right) / Math.max(1, points.length);
  const x = (i: number) => left + step * (i + 0.5);
  let path = '';
  let pen = false;
  points.forEach((p, i) => {
    if (p.value === null) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
    pen = true;
  });
  const dots = points.map((p, i) => (p.value === null ? '' : `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3" class="dot"><title>${escapeHtml(`${p.label}: ${show(p.value)}`)}</title></circle>`)).join('');
  return chartFrame(title, lo, hi, y, show, (path ? `<path d="${path}" class="line"/>` : '') + dots, points, x);
}

/** Horizontal bars with their labels, for named groups (RFM segments). */
function hbarChart(title: string, points: Point[], show: (v: number) => string): string {
  const rowHeight = 22;
  const left = 170;
  const width = 640;
  const height = points.length * rowHeight + 8;
  const max = Math.max(1, ...points.map((p) => p.value ?? 0));
  const rows = points
    .map((p, i) => {
      const w = ((p.value ?? 0) / max) * (width - left - 80);
      const yy = 4 + i * rowHeight;
      return `<text x="${left - 6}" y="${yy + 15}" text-anchor="end">${escapeHtml(p.label)}</text><rect x="${left}" y="${yy + 3}" width="${Math.max(0.5, w).toFixed(1)}" height="${rowHeight - 6}" class="bar"/><text x="${(left + w + 6).toFixed(1)}" y="${yy + 15}">${escapeHtml(p.value === null ? '' : show(p.value))}</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${rows}</svg>`;
}

// ── HTML ────────────────────────────────────────────────────────────────────

const STYLE = `
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; color: #1f2933; margin: 24px auto; max-width: 900px; padding: 0 16px; font-size: 14px; line-height: 1.45; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #3b6ea5; padding-bottom: 4px; margin-top: 28px; }
h3 { font-size: 15px; margin: 16px 0 4px; }
.meta { color: #52606d; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border-bottom: 1px solid #d9e2ec; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f4f8; font-weight: 600; }
.up { color: #1e7b34; } .down { color: #b42318; }
.note { color: #52606d; font-style: italic; }
svg { display: block; margin: 4px 0 12px; font-size: 10px; fill: #52606d; }
svg .grid { stroke: #d9e2ec; stroke-width: 1; }
svg .bar { fill: #3b6ea5; }
svg .line { fill: none; stroke: #3b6ea5; stroke-width: 2; }
svg .dot { fill: #3b6ea5; }
td.heat { color: #102a43; }
.campaigns table { font-size: 12px; }
.campaigns small { color: #52606d; }
section { break-inside: avoid; page-break-inside: avoid; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section.page { break-before: page; page-break-before: always; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  td.heat, svg { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}`;

/** `YYYY-MM-DDTHH:MM` in UTC: a report is read by people in several zones. */
const stamp = (iso: string | null): string => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '–');

/** The report as one self-contained, printable HTML page. */
export function renderReportHtml(r: MonthlyReport, lang: ReportLang = 'en'): string {
  const w = WORDS[lang];
  const fmt = formatter(lang);
  const e = escapeHtml;
  const table = (head: string[], rows: string[][]) => `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const note = (text: string) => `<p class="note">${e(text)}</p>`;
  const out: string[] = [];

  const kpis = kpiRows(r).map((k) => {
    const c = change(k.current, k.previous);
    // Shares change by points; money and counts by a relative amount.
    const delta = c.delta === null ? w.none : k.kind === 'share' ? `${c.delta >= 0 ? '+' : ''}${fmt(c.delta * 100, 'score')} pt` : `${c.delta >= 0 ? '+' : ''}${fmt(c.delta, k.kind === 'count' ? 'count' : k.kind === 'money' ? 'money' : 'score')}${c.relative === null || k.kind === 'score' ? '' : ` (${c.relative >= 0 ? '+' : ''}${fmt(c.relative, 'share')})`}`;
    const good = k.key === 'churn_rate' ? (c.delta ?? 0) < 0 : (c.delta ?? 0) > 0;
    const cls = c.delta === null || c.delta === 0 ? '' : good ? 'up' : 'down';
    return [e(w[k.word]), e(fmt(k.current, k.kind)), e(fmt(k.previous, k.kind)), `<span class="${cls}">${e(delta)}</span>`];
  });
  out.push(`<section><h2>${e(w.kpis)}</h2>${table([w.metric, `${w.month} ${r.month}`, `${w.previous} ${r.previousMonth}`, w.change], kpis)}</section>`);

  const labels = r.trend.map((p) => p.month);
  out.push(
    `<section><h2>${e(w.trends)}</h2>` +
      `<h3>${e(w.trendRevenue)}</h3>${barChart(w.trendRevenue, r.trend.map((p, i) => ({ label: labels[i]!, value: p.revenue })), (v) => fmt(v, 'money'))}` +
      `<h3>${e(w.trendActive)}</h3>${barChart(w.trendActive, r.trend.map((p, i) => ({ label: labels[i]!, value: p.activeCustomers })), (v) => fmt(v, 'count'))}` +
      `<h3>${e(w.trendNps)}</h3>${lineChart(w.trendNps, r.trend.map((p, i) => ({ label: labels[i]!, value: p.nps })), (v) => fmt(v, 'score'), [-100, 100])}` +
      table([w.month, w.trendRevenue, w.orders, w.trendActive, w.trendNps], r.trend.map((p) => [e(p.month), e(fmt(p.revenue, 'money')), e(fmt(p.orders, 'count')), e(fmt(p.activeCustomers, 'count')), e(fmt(p.nps, 'score'))])) +
      `</section>`,
  );

  const longest = Math.max(0, ...r.cohorts.map((c) => c.retention.length));
  const heat = (v: number | null) => (v === null ? '<td>–</td>' : `<td class="heat" style="background: rgba(59,110,165,${(0.08 + v * 0.6).toFixed(2)})">${e(fmt(v, 'share'))}</td>`);
  out.push(
    `<section class="page"><h2>${e(w.cohorts)}</h2>${note(w.cohortsNote)}` +
      `<table><thead><tr><th>${e(w.cohort)}</th><th>${e(w.size)}</th>${Array.from({ length: longest }, (_, m) => `<th>${m}</th>`).join('')}</tr></thead><tbody>` +
      r.cohorts.map((c) => `<tr><td>${e(c.cohort)}</td><td>${e(fmt(c.customers, 'count'))}</td>${c.retention.map(heat).join('')}${'<td></td>'.repeat(longest - c.retention.length)}</tr>`).join('') +
      `</tbody></table><p class="note">${e(w.monthsAfter)}: 0…${Math.max(0, longest - 1)}</p></section>`,
  );

  out.push(`<section><h2>${e(w.segments)}</h2>${r.segments.length === 0 ? note(w.noSegments) : table([w.segment, w.size], r.segments.map((s) => [e(s.name), e(fmt(s.size, 'count'))]))}</section>`);

  if (r.rfm === null) out.push(`<section><h2>${e(w.rfm)}</h2>${note(w.notComputed)}</section>`);
  else {
    const name = (s: RfmSection['segments'][number]) => (lang === 'zh-CN' && s.nameZh ? `${s.nameZh}（${s.segment}）` : s.segment);
    out.push(
      `<section><h2>${e(w.rfm)}</h2><p class="meta">${e(w.computedAt)}: ${e(stamp(r.rfm.computedAt))}</p>` +
        hbarChart(w.rfm, r.rfm.segments.map((s) => ({ label: lang === 'zh-CN' && s.nameZh ? s.nameZh : s.segment, value: s.customers })), (v) => fmt(v, 'count')) +
        table([w.segment, w.size, w.share, w.revenue], r.rfm.segments.map((s) => [e(name(s)), e(fmt(s.customers, 'count')), e(fmt(s.share, 'share')), e(fmt(s.revenue, 'money'))])) +
        `</section>`,
    );
  }

  if (r.clv === null) out.push(`<section><h2>${e(w.clv)}</h2>${note(w.notComputed)}</section>`);
  else {
    const c = r.clv;
    out.push(
      `<section><h2>${e(w.clv)}</h2><p class="meta">${e(w.computedAt)}: ${e(stamp(c.computedAt))}</p>` +
        table([w.metric, ''], [[e(w.clvCustomers), e(fmt(c.customers, 'count'))], [e(w.clvMean), e(fmt(c.meanClv, 'money'))], [e(w.clvTotal), e(fmt(c.totalClv, 'money'))]]) +
        (c.distribution.length > 0 ? barChart(w.clv, c.distribution.map((d) => ({ label: `${fmt(d.lower, 'count')}–${fmt(d.upper, 'count')}`, value: d.count })), (v) => fmt(v, 'count')) : '') +
        `</section>`,
    );
  }

  if (r.churnRisk === null) out.push(`<section><h2>${e(w.churnRisk)}</h2>${note(w.notComputed)}</section>`);
  else {
    const cr = r.churnRisk;
    const binLabel = (i: number) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`;
    out.push(
      `<section><h2>${e(w.churnRisk)}</h2>${note(w.churnRiskNote)}<p>${e(w.profiles)}: ${e(fmt(cr.profiles, 'count'))} · ${e(w.meanRisk)}: ${e(fmt(cr.mean, 'ratio'))}</p>` +
        barChart(w.churnRisk, cr.bins.map((v, i) => ({ label: binLabel(i), value: v })), (v) => fmt(v, 'count')) +
        `</section>`,
    );
  }

  if (r.feedback === null) out.push(`<section><h2>${e(w.feedback)}</h2>${note(w.notComputed)}</section>`);
  else {
    const f = r.feedback;
    const parts = [`<section><h2>${e(w.feedback)}</h2><p class="meta">${e(w.computedAt)}: ${e(stamp(f.computedAt))}</p>`];
    parts.push(table([w.metric, ''], [[e(w.nps), e(fmt(f.nps, 'score'))], [e(w.csat), e(fmt(f.csat, 'score'))], [e(w.complaints), e(fmt(f.complaints, 'count'))]]));
    if (f.sentiment) {
      const s = f.sentiment;
      parts.push(`<h3>${e(w.sentiment)}</h3>${hbarChart(w.sentiment, [{ label: w.positive, value: s.positive }, { label: w.neutral, value: s.neutral }, { label: w.negative, value: s.negative }], (v) => fmt(v, Number.isInteger(v) ? 'count' : 'ratio'))}`);
    }
    if (f.themes.length > 0) {
      const label = (t: FeedbackSection['themes'][number]) => (lang === 'zh-CN' ? (t.zh ?? t.name) : (t.en ?? t.name));
      const sentiment = (v: number | string | null) => (v === null ? w.none : typeof v === 'number' ? fmt(v, 'ratio') : v);
      parts.push(`<h3>${e(w.themes)}</h3>` + table([w.theme, w.documents, w.share, w.sentiment], f.themes.map((t) => [e(label(t)), e(fmt(t.documents, 'count')), e(fmt(t.share, 'share')), e(sentiment(t.sentiment))])));
    }
    parts.push('</section>');
    out.push(parts.join(''));
  }

  const cs = r.campaigns;
  if (cs === null) out.push(`<section><h2>${e(w.campaigns)}</h2>${note(w.campaignsNotCounted)}</section>`);
  else if (cs.count === 0) out.push(`<section><h2>${e(w.campaigns)}</h2>${note(fill(w.noCampaigns, { month: r.month }))}</section>`);
  else {
    const small = (text: string) => (text ? `<br><small>${e(text)}</small>` : '');
    const money = (v: number | null, currency: string | null) => (v === null ? w.none : `${fmt(v, 'money')}${currency ? ` ${currency}` : ''}`);
    const arm = (a: CampaignRow['treatment'] | null) => (a === null ? e(w.none) : `${e(fmt(a.rate, 'share'))}${small(`${fmt(a.converted, 'count')} / ${fmt(a.people, 'count')}`)}`);
    const uplift = (u: CampaignRow['uplift']) => {
      if (u === null) return e(w.none);
      const points = e(`${u.absolute >= 0 ? '+' : ''}${fmt(u.absolute * 100, 'score')} pt${u.significant ? ' *' : ''}`);
      return `${u.significant ? `<strong>${points}</strong>` : points}${small(`p = ${pValueText(u.pValue)}`)}`;
    };
    const reasons = (c: CampaignRow) => c.topSkipReasons.map((s) => `${skipReason(lang, s.reason)} ${fmt(s.count, 'count')}`).join(' · ');
    const rows = cs.rows.map((c) => [
      e(c.name),
      e(channelName(lang, c.channel)),
      e(fmt(c.sentInMonth, 'count')),
      e(fmt(c.sent, 'count')),
      `${e(fmt(c.skipped, 'count'))}${small(reasons(c))}`,
      e(fmt(c.control, 'count')),
      arm(c.treatment),
      arm(c.controlArm),
      uplift(c.uplift),
      `${e(money(c.attributedRevenue, c.currency))}${small(fill(w.ordersCount, { n: fmt(c.attributedOrders, 'count') }))}`,
      e(money(c.cost, c.currency)),
      e(fmt(c.roi, 'ratio')),
    ]);
    const t = cs.total;
    rows.push([
      `<strong>${e(w.total)}</strong>`,
      '',
      e(fmt(t.sentInMonth, 'count')),
      e(fmt(t.sent, 'count')),
      e(fmt(t.skipped, 'count')),
      e(fmt(t.control, 'count')),
      e(w.none),
      e(w.none),
      e(w.none),
      `${e(money(t.attributedRevenue, t.currency))}${small(fill(w.ordersCount, { n: fmt(t.attributedOrders, 'count') }))}`,
      e(money(t.cost, t.currency)),
      e(fmt(t.roi, 'ratio')),
    ]);
    out.push(
      `<section class="campaigns"><h2>${e(w.campaigns)}</h2>` +
        note(fill(w.campaignsNote, { month: r.month, shown: cs.rows.length, count: cs.count, asOf: stamp(cs.asOf) })) +
        table([w.campaign, w.channel, w.sentInMonth, w.sentTotal, w.skipped, w.controlGroup, w.rateTreatment, w.rateControl, w.uplift, w.attributedRevenue, w.cost, w.roi], rows) +
        note(w.campaignsDefinitions) +
        `</section>`,
    );
  }
  out.push(`<section><h2>${e(w.quality)}</h2>${r.quality === null ? note(w.notComputed) : table([w.metric, ''], [[e(w.qualityScore), e(fmt(r.quality.score, 'score'))], [e(w.profiles), e(fmt(r.quality.profiles, 'count'))]])}</section>`);

  return [
    '<!doctype html>',
    `<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${e(`${w.title} ${r.month}`)}</title><style>${STYLE}</style></head><body>`,
    `<header><h1>${e(w.title)} · ${e(r.month)}</h1><p class="meta">${e(w.workspace)}: ${e(r.workspaceId)} · ${e(w.generated)}: ${e(stamp(r.generatedAt))}</p></header>`,
    ...out,
    `<footer><p class="note">${e(w.definitions)}</p></footer>`,
    '</body></html>',
  ].join('\n');
}

// ── CSV ─────────────────────────────────────────────────────────────────────

/** RFC 4180 quoting; text a spreadsheet would run as a formula (=, +, -, @) gets a leading apostrophe. */
function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The report as CSV, one figure a row: `section,metric,label,period,value,previous,change`.
 * Numbers are plain (shares 0–1, money unrounded) so a spreadsheet can compute with them.
 */
export function renderReportCsv(r: MonthlyReport, lang: ReportLang = 'en'): string {
  const w = WORDS[lang];
  const rows: Array<Array<string | number | null>> = [['section', 'metric', 'label', 'period', 'value', 'previous', 'change']];
  for (const k of kpiRows(r)) rows.push(['kpi', k.key, w[k.word], r.month, k.current, k.previous, change(k.current, k.previous).delta]);
  for (const p of r.trend) {
    rows.push(['trend', 'revenue', w.trendRevenue, p.month, p.revenue, null, null]);
    rows.push(['trend', 'orders', w.orders, p.month, p.orders, null, null]);
    rows.push(['trend', 'customers_active', w.trendActive, p.month, p.activeCustomers, null, null]);
    rows.push(['trend', 'nps', w.trendNps, p.month, p.nps, null, null]);
  }
  for (const c of r.cohorts) {
    rows.push(['cohort', 'customers', w.size, c.cohort, c.customers, null, null]);
    c.retention.forEach((v, m) => rows.push(['cohort', `retention_m${m}`, `${w.monthsAfter} ${m}`, c.cohort, v, null, null]));
  }
  for (const s of r.segments) rows.push(['segment', s.id, s.name, null, s.size, null, null]);
  for (const s of r.rfm?.segments ?? []) rows.push(['rfm', s.segment, lang === 'zh-CN' && s.nameZh ? s.nameZh : s.segment, r.rfm?.computedAt ?? null, s.customers, null, null]);
  if (r.clv) {
    rows.push(['clv', 'customers', w.clvCustomers, r.clv.computedAt, r.clv.customers, null, null]);
    rows.push(['clv', 'mean_clv', w.clvMean, r.clv.computedAt, r.clv.meanClv, null, null]);
    rows.push(['clv', 'total_clv', w.clvTotal, r.clv.computedAt, r.clv.totalClv, null, null]);
    for (const d of r.clv.distribution) rows.push(['clv', `range_${d.lower}_${d.upper}`, `${w.range} ${d.lower}–${d.upper}`, r.clv.computedAt, d.count, null, null]);
  }
  if (r.churnRisk) r.churnRisk.bins.forEach((v, i) => rows.push(['churn_risk', `bin_${(i / 10).toFixed(1)}_${((i + 1) / 10).toFixed(1)}`, w.churnRisk, null, v, null, null]));
  if (r.feedback) {
    const f = r.feedback;
    rows.push(['feedback', 'nps', w.nps, f.computedAt, f.nps, null, null]);
    rows.push(['feedback', 'csat', w.csat, f.computedAt, f.csat, null, null]);
    rows.push(['feedback', 'complaints', w.complaints, f.computedAt, f.complaints, null, null]);
    if (f.sentiment) for (const s of ['positive', 'neutral', 'negative'] as const) rows.push(['feedback', `sentiment_${s}`, w[s], f.computedAt, f.sentiment[s], null, null]);
    for (const t of f.themes) rows.push(['feedback', `theme:${t.name}`, lang === 'zh-CN' ? (t.zh ?? t.name) : (t.en ?? t.name), f.computedAt, t.documents, null, null]);
  }
  if (r.campaigns) {
    const cs = r.campaigns;
    // A campaign's rows go by `<field>:<campaign id>` (names need not be unique); the total's by the field alone.
    const put = (metric: string, label: string, value: string | number | null) => rows.push(['campaign', metric, label, r.month, value, null, null]);
    for (const c of cs.rows) {
      const m = (field: string) => `${field}:${c.id}`;
      const l = (word: string) => `${c.name} – ${word}`;
      put(m('channel'), l(w.channel), c.channel);
      put(m('currency'), l(w.currency), c.currency);
      put(m('sent_in_month'), l(w.sentInMonth), c.sentInMonth);
      put(m('sent'), l(w.sentTotal), c.sent);
      put(m('skipped'), l(w.skipped), c.skipped);
      for (const s of c.topSkipReasons) put(m(`skipped_${s.reason}`), l(`${w.skipped}: ${skipReason(lang, s.reason)}`), s.count);
      put(m('control'), l(w.controlGroup), c.control);
      put(m('treatment_people'), l(w.treatmentGroup), c.treatment.people);
      put(m('treatment_converted'), l(w.convertedTreatment), c.treatment.converted);
      put(m('treatment_rate'), l(w.rateTreatment), c.treatment.rate);
      put(m('control_converted'), l(w.convertedControl), c.controlArm?.converted ?? null);
      put(m('control_rate'), l(w.rateControl), c.controlArm?.rate ?? null);
      put(m('uplift'), l(w.uplift), c.uplift?.absolute ?? null);
      put(m('p_value'), l(w.pValue), c.uplift?.pValue ?? null);
      put(m('significant'), l(w.significant), c.uplift ? (c.uplift.significant ? 1 : 0) : null);
      put(m('attributed_orders'), l(w.attributedOrders), c.attributedOrders);
      put(m('attributed_revenue'), l(w.attributedRevenue), c.attributedRevenue);
      put(m('cost'), l(w.cost), c.cost);
      put(m('roi'), l(w.roi), c.roi);
    }
    const t = cs.total;
    const l = (word: string) => `${w.total} – ${word}`;
    put('campaigns', l(w.campaigns), cs.count);
    put('currency', l(w.currency), t.currency);
    put('sent_in_month', l(w.sentInMonth), t.sentInMonth);
    put('sent', l(w.sentTotal), t.sent);
    put('skipped', l(w.skipped), t.skipped);
    put('control', l(w.controlGroup), t.control);
    put('attributed_orders', l(w.attributedOrders), t.attributedOrders);
    put('attributed_revenue', l(w.attributedRevenue), t.attributedRevenue);
    put('cost', l(w.cost), t.cost);
    put('roi', l(w.roi), t.roi);
  }
  if (r.quality) rows.push(['quality', 'score', w.qualityScore, null, r.quality.score, null, null]);
  // A BOM so Excel opens Chinese labels as UTF-8.
  return '\ufeff' + rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** The report in a format, with what an HTTP answer or a file needs. */
export function renderReport(r: MonthlyReport, format: ReportFormat, lang: ReportLang): { body: string; contentType: string; filename: string } {
  const filename = `custodian-report-${r.month}${lang === 'en' ? '' : `-${lang}`}.${format}`;
  return format === 'csv'
    ? { body: renderReportCsv(r, lang), contentType: 'text/csv; charset=utf-8', filename }
    : { body: renderReportHtml(r, lang), contentType: 'text/html; charset=utf-8', filename };
}
