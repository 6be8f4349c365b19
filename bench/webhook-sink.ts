/**
 * A webhook receiver for bench/campaign, run in its own process so it does not
 * share the sender's event loop: answers 200 to every POST, counts requests and
 * distinct idempotency keys, and tells them at GET /count.
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
  req.resume();
  req.on('end', () => {
    requests += 1;
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') keys.add(key);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
