import iconv from 'iconv-lite';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'gb18030';

const SNIFF_BYTES = 64 * 1024;

function isUtf8(bytes: Buffer): boolean {
  try {
    // stream: true leaves a character cut at the end of the sample undecided.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** Which encoding a file is in, from its first bytes: BOMs first, then "is it valid UTF-8", else GB18030 (Chinese Excel). */
export function sniffEncoding(head: Buffer): { encoding: TextEncoding; bomBytes: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomBytes: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomBytes: 2 };
  return { encoding: isUtf8(head) ? 'utf-8' : 'gb18030', bomBytes: 0 };
}

/**
 * Bytes → text, decoding as the sniffed encoding. The file is never held
 * whole: only the first 64 KB are looked at before text starts flowing.
 */
export async function* decodeText(input: AsyncIterable<Buffer>, found: (encoding: TextEncoding) => void): AsyncGenerator<string> {
  const iterator = input[Symbol.asyncIterator]();
  const headParts: Buffer[] = [];
  let headLength = 0;
  let done = false;
  while (headLength < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    headParts.push(next.value);
    headLength += next.value.length;
  }
  const head = Buffer.concat(headParts);
  const { encoding, bomBytes } = sniffEncoding(head);
  found(encoding);
  const decode =
    encoding === 'gb18030'
      ? (() => {
          const decoder = iconv.getDecoder('gb18030');
          return (chunk: Buffer | null) => (chunk ? decoder.write(chunk) : (decoder.end() ?? ''));
        })()
      : (() => {
          const decoder = new TextDecoder(encoding);
          return (chunk: Buffer | null) => (chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode());
        })();
  const first = decode(head.subarray(bomBytes));
  if (first) yield first;
  while (!done) {
    const next = await iterator.next();
    if (next.done) break;
    const text = decode(next.value);
    if (text) yield text;
  }
  const rest = decode(null);
  if (rest) yield rest;
}
