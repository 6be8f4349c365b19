/**
 * Standardizer throughput on one core: values/s per standardizer over
 * 1,000,000 mixed, real-world-shaped values (good, messy and bad), against
 * libphonenumber-js's bare parse as the phone baseline, measured in the same
 * run. Each measurement is the median of `--repeat` passes over the same
 * values after a warm-up pass.
 *
 *   npx tsx bench/clean.ts [--values 1000000] [--repeat 5]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { standardizeAddress } from '../src/clean/address.js';
import { standardizeDate } from '../src/clean/date.js';
import { standardizeEmail } from '../src/clean/email.js';
import { standardizeGender } from '../src/clean/enums.js';
import { standardizeName } from '../src/clean/name.js';
import { standardizePhone } from '../src/clean/phone.js';
import { cleanContext } from '../src/clean/settings.js';
import { cleanTraits } from '../src/clean/traits.js';

const { values: args } = parseArgs({ options: { values: { type: 'string' }, repeat: { type: 'string' } } });
const N = Number(args.values ?? 1_000_000);
const REPEAT = Number(args.repeat ?? 5);

// A small deterministic generator: the same values every run.
let seed = 0x2f6b_1d3a;
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4_294_967_296;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
const fullWidth = (s: string): string => s.replace(/[0-9+@.a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

const CN_MOBILE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '147', '150', '151', '152', '153', '155', '156', '157', '158', '159', '166', '172', '173', '175', '176', '177', '178', '180', '181', '182', '183', '184', '185', '186', '187', '188', '189', '191', '198', '199'];
const US_AREAS = ['212', '213', '312', '415', '617', '646', '702', '713', '206', '303'];

function phone(): string {
  const mobile = pick(CN_MOBILE_PREFIXES) + digits(8);
  const us = `${pick(US_AREAS)}${2 + Math.floor(rand() * 8)}${digits(6)}`;
  switch (Math.floor(rand() * 12)) {
    case 0: return mobile;
    case 1: return `${mobile.slice(0, 3)} ${mobile.slice(3, 7)} ${mobile.slice(7)}`;
    case 2: return `+86 ${mobile.slice(0, 3)}-${mobile.slice(3, 7)}-${mobile.slice(7)}`;
    case 3: return `0086${mobile}`;
    case 4: return `(+86)${mobile}`;
    case 5: return fullWidth(mobile);
    case 6: return `(${us.slice(0, 3)}) ${us.slice(3, 6)}-${us.slice(6)}`;
    case 7: return `1-${us.slice(0, 3)}-${us.slice(3, 6)}-${us.slice(6)}`;
    case 8: return `+1${us}`;
    case 9: return `0${pick(['10', '21', '755', '571'])}-${digits(8)}`;
    case 10: return `+44 20 7${digits(3)} ${digits(4)}`;
    default: return pick(['12345', '00000000000', `${mobile}1`, 'n/a', `1${digits(4)}`]);
  }
}

const GIVEN = ['wei', 'na', 'jing', 'li', 'qiang', 'min', 'john', 'mary', 'robert', 'linda', 'michael', 'sarah', 'david', 'emma', 'james'];
const FAMILY = ['zhang', 'wang', 'li', 'liu', 'chen', 'smith', 'johnson', 'brown', 'garcia', 'mcdonald', "o'brien"];
const DOMAINS = ['qq.com', '163.com', '126.com', 'gmail.com', 'outlook.com', 'hotmail.com', 'sina.com', 'foxmail.com', 'yahoo.com', 'icloud.com', 'example.org', 'acme.cn'];

function email(): string {
  const local = `${pick(GIVEN)}${pick(['.', '_', ''])}${pick(FAMILY).replace("'", '')}${rand() < 0.4 ? digits(3) : ''}`;
  switch (Math.floor(rand() * 10)) {
    case 0: return ` ${local.toUpperCase()}@${pick(DOMAINS).toUpperCase()} `;
    case 1: return fullWidth(`${local}@${pick(DOMAINS)}`);
    case 2: return `${local}@${pick(['gmial.com', 'qq.con', '163.cm', 'hotmial.com'])}`;
    case 3: return `${local}+promo@gmail.com`;
    case 4: return pick([`${local}@`, `@${pick(DOMAINS)}`, `${local} x@qq.com`, local]);
    default: return `${local}@${pick(DOMAINS)}`;
  }
}

const SURNAMES = ['张', '王', '李', '刘', '陈', '杨', '黄', '赵', '周', '吴', '欧阳', '司马'];
const GIVEN_ZH = ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟'];
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function name(): string {
  const zh = pick(SURNAMES) + pick(GIVEN_ZH);
  const en = `${pick(GIVEN)} ${pick(FAMILY)}`;
  switch (Math.floor(rand() * 8)) {
    case 0: return zh;
    case 1: return `${zh.slice(0, 1)} ${zh.slice(1)}`;
    case 2: return ` ${zh} `;
    case 3: return en;
    case 4: return en.toUpperCase();
    case 5: return `${cap(pick(FAMILY))}, ${cap(pick(GIVEN))}`;
    case 6: return `${cap(pick(GIVEN))} ${cap(pick(FAMILY))}`;
    default: return pick(['Mr. John Smith', '王先生', 'test', 'N/A', '12345', `Dr. ${cap(pick(GIVEN))} ${cap(pick(FAMILY))}`]);
  }
}

function date(): string {
  const y = 1950 + Math.floor(rand() * 55);
  const m = 1 + Math.floor(rand() * 12);
  const d = 1 + Math.floor(rand() * 28);
  const p = (n: number) => String(n).padStart(2, '0');
  switch (Math.floor(rand() * 9)) {
    case 0: return `${y}-${p(m)}-${p(d)}`;
    case 1: return `${y}/${m}/${d}`;
    case 2: return `${y}年${m}月${d}日`;
    case 3: return `${y}${p(m)}${p(d)}`;
    case 4: return `${p(d)}.${p(m)}.${y}`;
    case 5: return `${p(m)}/${p(d)}/${y}`;
    case 6: return String(Math.floor((Date.UTC(y, m - 1, d) - Date.UTC(1899, 11, 30)) / 86_400_000));
    case 7: return `${y}-${p(m)}-${p(d)}T08:30:00+08:00`;
    default: return pick(['1990-02-30', '2099-01-01', 'unknown', '13/13/2000', '']);
  }
}

const ADDRESSES = ['上海市浦东新区世纪大道100号', '广东省深圳市南山区科技园科苑路15号', '北京朝阳区建国路88号', '浙江杭州西湖区文三路478号', '1600 Pennsylvania Avenue NW, Washington, DC 20500', '123 main street apt 4, springfield, illinois 62704'];
const GENDERS = ['男', '女', 'M', 'F', 'male', 'Female', '先生', '女士', '未知', 'x', '?'];

function generate(make: () => string): string[] {
  return Array.from({ length: N }, make);
}

/** Median values/s of `repeat` timed passes, after one warm-up pass. */
function rate(values: readonly unknown[], fn: (v: unknown) => unknown): { valuesPerSecond: number; runs: number[] } {
  let sink = 0;
  for (const v of values) if (fn(v)) sink += 1;
  const runs: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const start = process.hrtime.bigint();
    for (const v of values) if (fn(v)) sink += 1;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    runs.push(values.length / seconds);
  }
  if (sink < 0) console.log(sink);
  const sorted = [...runs].sort((a, b) => a - b);
  return { valuesPerSecond: sorted[Math.floor(sorted.length / 2)]!, runs: runs.map(Math.round) };
}

const now = new Date('2026-11-24T00:00:00Z');
const log = (line: string) => process.stdout.write(line + '\n');
log(`generating ${N.toLocaleString('en')} values per standardizer…`);
const phones = generate(phone);
const emails = generate(email);
const names = generate(name);
const dates = generate(date);
const addresses = Array.from({ length: Math.min(N, 200_000) }, () => pick(ADDRESSES));
const genders = generate(() => pick(GENDERS));
const records = Array.from({ length: Math.min(N, 200_000) }, (_, i) => ({ email: emails[i], phone: phones[i], name: names[i], birthday: dates[i], gender: genders[i], city: pick(['上海', '北京', 'Springfield']) }));

const countries = ['CN', 'US'];
const context = cleanContext({}, {}, now);
const results: Record<string, { valuesPerSecond: number; runs: number[]; goal?: string; pass?: boolean }> = {};
const measure = (label: string, values: readonly unknown[], fn: (v: unknown) => unknown) => {
  const r = rate(values, fn);
  results[label] = r;
  log(`${label.padEnd(34)} ${Math.round(r.valuesPerSecond).toLocaleString('en').padStart(12)} values/s   runs ${r.runs.map((x) => x.toLocaleString('en')).join(', ')}`);
};

measure('libphonenumber-js bare parse (CN)', phones, (v) => parsePhoneNumberFromString(v as string, 'CN'));
measure('standardizePhone (CN, US)', phones, (v) => standardizePhone(v, { countries }).ok);
measure('standardizeEmail', emails, (v) => standardizeEmail(v).ok);
measure('standardizeName', names, (v) => standardizeName(v).ok);
measure('standardizeDate (birthday)', dates, (v) => standardizeDate(v, { kind: 'birthday', now }).ok);
measure('standardizeGender', genders, (v) => standardizeGender(v).ok);
measure('standardizeAddress', addresses, (v) => standardizeAddress(v, { countries }).ok);
measure('cleanTraits (6-field record)', records, (v) => cleanTraits(v as Record<string, unknown>, context).observations.length);

const phoneRatio = results['standardizePhone (CN, US)']!.valuesPerSecond / results['libphonenumber-js bare parse (CN)']!.valuesPerSecond;
const goals: Array<[string, string, boolean]> = [
  ['standardizePhone (CN, US)', '≥ 0.8× libphonenumber-js bare parse', phoneRatio >= 0.8],
  ['standardizeEmail', '≥ 1,000,000 values/s', results.standardizeEmail!.valuesPerSecond >= 1_000_000],
  ['standardizeName', '≥ 500,000 values/s', results.standardizeName!.valuesPerSecond >= 500_000],
  ['standardizeDate (birthday)', '≥ 500,000 values/s', results['standardizeDate (birthday)']!.valuesPerSecond >= 500_000],
];
log(`\nphone: ${phoneRatio.toFixed(2)}× libphonenumber-js's bare parse rate (same values, same run)`);
for (const [label, goal, pass] of goals) {
  results[label]!.goal = goal;
  results[label]!.pass = pass;
  log(`${pass ? 'PASS' : 'FAIL'}  ${label}: ${goal}`);
}

const report = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  settings: { values: N, repeat: REPEAT, addressesAndRecords: addresses.length },
  notes: [
    'one core (single thread); each figure the median of `repeat` passes over the same values after a warm-up pass',
    'values are mixed real-world shapes: clean, messy (spacing, full-width, case, other formats) and bad (about 1 in 10)',
    'phone baseline: parsePhoneNumberFromString(value, "CN") from libphonenumber-js/max over the same values, measured in the same run',
  ],
  phoneRatioToBareParse: phoneRatio,
  results,
};
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}clean-${report.at.slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
log(`\nresults written to ${file}`);
