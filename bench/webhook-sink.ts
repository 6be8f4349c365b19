/**
 * A webhook receiver for bench/campaign, run in its own process so it does not
 * share the sender's event loop: answers 200 to every POST, counts requests and
 * distinct idempotency keys of the messages in them, and tells them at GET /count.
 *
 *   npx tsx bench/webhook-sink.ts   (prints its port on the first line)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let requests = 0;
const keys = new Set<string>();
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ requests, distinct: keys.size }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    requests += 1;
    // A batch names each message's key in its body; a single message's key is the header's.
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { idempotencyKey?: string; messages?: Array<{ idempotencyKey: string }> };
    if (Array.isArray(body.messages)) for (const m of body.messages) keys.add(m.idempotencyKey);
    else if (typeof body.idempotencyKey === 'string') keys.add(body.idempotencyKey);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
