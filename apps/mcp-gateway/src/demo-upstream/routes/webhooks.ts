import type { FastifyInstance } from 'fastify';
import { notFound, nowIso, type DemoContext } from '../context';

/** `/webhooks`: register `{url, secret, events}`, list (secrets never shown), delete. */
export async function webhookRegistrationRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, nextId } = ctx;
  app.get('/webhooks', async () => ({ data: data.webhooks.map(({ secret: _s, ...w }) => w) }));
  app.post<{ Body: { url: string; secret: string; events?: string[] } }>(
    '/webhooks',
    {
      schema: {
        body: {
          type: 'object',
          required: ['url', 'secret'],
          properties: { url: { type: 'string', pattern: '^https?://' }, secret: { type: 'string', minLength: 8 }, events: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
    async (req, reply) => {
      const w = { id: nextId('webhook'), url: req.body.url, secret: req.body.secret, events: req.body.events ?? ['*'], created_at: nowIso() };
      data.webhooks.push(w);
      const { secret: _s, ...shown } = w;
      return reply.code(201).send(shown);
    },
  );
  app.delete<{ Params: { id: string } }>('/webhooks/:id', async (req, reply) => {
    const i = data.webhooks.findIndex((x) => x.id === req.params.id);
    if (i < 0) return notFound(reply, 'webhook', req.params.id);
    data.webhooks.splice(i, 1);
    return reply.code(204).send();
  });
}
