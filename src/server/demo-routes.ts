import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';

/** What loading reports as it goes; the loader itself lives with the CLI (src/cli/demo.ts). */
export interface DemoLoadProgress {
  customers: number;
  total: number;
  messages: number;
}

export interface DemoRoutesDeps {
  /** write the demo data set into the workspace's event log; resolves with a JSON-able outcome */
  load(workspaceId: string, run: { customers: number; seed: string }, onProgress: (progress: DemoLoadProgress) => void, signal: AbortSignal): Promise<object>;
  maxCustomers: number;
  defaults: { customers: number; seed: string };
}

/**
 * POST /api/demo: load the demo data set in this server's process, answering
 * with progress as NDJSON lines (`{"phase":"progress"…}`, then `done` with the
 * outcome, or `error`). `custodian demo` uses it while a server holds the data
 * directory. Needs the data.import permission.
 */
export const demoRoutes: FastifyPluginAsync<DemoRoutesDeps> = async (app, deps) => {
  // A closing server stops its loads between chunks instead of waiting for them.
  const running = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const abort of running) abort.abort();
  });
  app.post('/api/demo', {
    config: { access: 'data.import' },
    schema: {
      tags: ['operations'],
      summary: 'Load the demo data set (progress as NDJSON lines)',
      description:
        'Generates a year of customers, orders, feedback, consents and campaign touches from the seed and writes them to the event log of the caller\'s workspace, ' +
        'sources crm, pos, web, miniprogram and survey; the worker builds the profiles. The same seed gives the same messageIds: loading again adds nothing.',
      security: [{ bearer: [] }],
      body: Type.Object(
        {
          customers: Type.Optional(Type.Integer({ minimum: 1, maximum: deps.maxCustomers, default: deps.defaults.customers })),
          seed: Type.Optional(Type.String({ minLength: 1, maxLength: 200, default: deps.defaults.seed })),
        },
        { additionalProperties: false },
      ),
      produces: ['application/x-ndjson'],
    },
  }, async (request, reply) => {
    const caller = request.caller;
    const body = (request.body ?? {}) as { customers?: number; seed?: string };
    const run = { customers: body.customers ?? deps.defaults.customers, seed: body.seed ?? deps.defaults.seed };
    const abort = new AbortController();
    running.add(abort);

    async function* lines(): AsyncGenerator<string> {
      const queue: string[] = [];
      let finished = false;
      let wake: (() => void) | null = null;
      const send = (line: object) => {
        queue.push(JSON.stringify(line) + '\n');
        wake?.();
      };
      const task = deps
        .load(caller.workspaceId, run, (p) => send({ phase: 'progress', ...p }), abort.signal)
        .then(
          (outcome) => send({ phase: 'done', outcome }),
          (error: unknown) => {
            if (!abort.signal.aborted) request.log.error({ err: error }, 'demo load failed');
            send({ phase: 'error', message: error instanceof Error ? error.message : String(error) });
          },
        )
        .finally(() => {
          finished = true;
          wake?.();
        });
      try {
        for (;;) {
          const next = queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (finished) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      } finally {
        // The client went away: stop between chunks (what is written stays).
        abort.abort();
        await task;
        running.delete(abort);
      }
    }

    reply.type('application/x-ndjson; charset=utf-8');
    return reply.send(Readable.from(lines()));
  });
};
