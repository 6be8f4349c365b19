/**
 * bench/sentiment: throughput of scoreSentiment and extractThemes on the
 * labelled feedback sets (test/fixtures/sentiment-{zh,en}.tsv), repeated to
 * at least 10,000 texts per language. Reports ms per 1,000 texts after a
 * warm-up, plus the one-off jieba dictionary load.
 *
 *   npx tsx bench/sentiment.ts [--repeat 20]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scoreSentiment } from '../src/analytics/sentiment.js';
import { extractThemes } from '../src/analytics/themes.js';
import { getJieba } from '../src/analytics/tokenize.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '20' } } });
const repeat = Math.max(1, Number(values.repeat));

function texts(lang: 'zh' | 'en'): string[] {
  const path = fileURLToPath(new URL(`../test/fixtures/sentiment-${lang}.tsv`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => l.slice(l.indexOf('\t') + 1));
}

const loadStart = performance.now();
getJieba();
console.log(`jieba dictionary load: ${(performance.now() - loadStart).toFixed(0)} ms (once per process)`);

for (const lang of ['zh', 'en'] as const) {
  const base = texts(lang);
  const corpus = Array.from({ length: repeat }, () => base).flat();
  for (const t of base) scoreSentiment(t); // warm-up: JIT and caches
  const start = performance.now();
  let checksum = 0;
  for (const t of corpus) checksum += scoreSentiment(t).score;
  const ms = performance.now() - start;
  const themeStart = performance.now();
  const themes = extractThemes(corpus.slice(0, 5000).map((text) => ({ text })));
  const themeMs = performance.now() - themeStart;
  console.log(
    `${lang}: scoreSentiment ${((ms / corpus.length) * 1000).toFixed(1)} ms per 1,000 texts (${corpus.length} texts, checksum ${checksum.toFixed(2)}); ` +
      `extractThemes on 5,000 texts ${themeMs.toFixed(0)} ms, ${themes.themes.length} themes`,
  );
}
