import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { catalogAsJson, CHANNELS, type Channel } from '../collect/event-catalog.js';

const CatalogEvent = Type.Object({
  name: Type.String({ description: 'the track event name; for page and screen calls the name tracking plans use' }),
  type: Type.Union([Type.Literal('track'), Type.Literal('page'), Type.Literal('screen')], { description: 'the Segment call that carries it' }),
  channel: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
  description: Type.Object({ en: Type.String(), 'zh-CN': Type.String() }),
  properties: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON schema of the properties: types, ranges and required ones' }),
});

/** The standard event catalogue (collect/event-catalog.ts, docs/events.md). */
export const catalogRoutes: FastifyPluginAsync = async (app) => {
  const catalog = catalogAsJson();

  app.get('/api/catalog/events', {
    config: { access: 'settings.read' },
    schema: {
      tags: ['catalog'],
      summary: 'The standard events, one schema each, by channel',
      description: 'Analytics, segments and tracking plans (`fromCatalog`) read these names. Undeclared properties are allowed by the catalogue; a tracking plan can forbid them.',
      security: [{ bearer: [] }],
      querystring: Type.Object({ channel: Type.Optional(Type.Union(CHANNELS.map((c) => Type.Literal(c)))) }),
      response: { 200: Type.Object({ events: Type.Array(CatalogEvent) }), '4xx': { $ref: 'Error#' } },
    },
  }, async (request) => {
    const { channel } = request.query as { channel?: Channel };
    return { events: channel ? catalog.filter((e) => e.channel === channel) : catalog };
  });
};
