import type { FastifyInstance } from 'fastify';
import { notFound, nowIso, type DemoContext } from '../context';

/** `/jobs/:id/estimates`, `/estimates/:id`; create and update (amount = sum of the lines) emit `estimate.*` webhooks. */
export async function estimateRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, emitter, nextId, jobExists } = ctx;
  app.get<{ Params: { id: string } }>('/jobs/:id/estimates', async (req, reply) => {
    if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
    const items = data.estimates.filter((e) => e.job_id === req.params.id);
    return { data: items, total: items.length };
  });
  app.get<{ Params: { id: string } }>('/estimates/:id', async (req, reply) => {
    const e = data.estimates.find((x) => x.id === req.params.id);
    return e ?? notFound(reply, 'estimate', req.params.id);
  });
  const lineSchema = {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      required: ['description', 'amount_cents'],
      properties: { description: { type: 'string' }, amount_cents: { type: 'integer', minimum: 0 } },
    },
  } as const;
  app.post<{ Params: { id: string }; Body: { lines: { description: string; amount_cents: number }[] } }>(
    '/jobs/:id/estimates',
    { schema: { body: { type: 'object', required: ['lines'], properties: { lines: lineSchema } } } },
    async (req, reply) => {
      if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
      const t = nowIso();
      const e = {
        id: nextId('estimate'),
        job_id: req.params.id,
        lines: req.body.lines,
        amount_cents: req.body.lines.reduce((s, l) => s + l.amount_cents, 0),
        status: 'draft' as const,
        created_at: t,
        updated_at: t,
      };
      data.estimates.push(e);
      emitter.emit('estimate.created', 'estimate', e.id, { job_id: e.job_id });
      return reply.code(201).send(e);
    },
  );
  app.patch<{ Params: { id: string }; Body: { status?: 'draft' | 'sent' | 'accepted' | 'declined'; lines?: { description: string; amount_cents: number }[] } }>(
    '/estimates/:id',
    {
      schema: {
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { status: { enum: ['draft', 'sent', 'accepted', 'declined'] }, lines: lineSchema },
        },
      },
    },
    async (req, reply) => {
      const e = data.estimates.find((x) => x.id === req.params.id);
      if (!e) return notFound(reply, 'estimate', req.params.id);
      if (req.body.status) e.status = req.body.status;
      if (req.body.lines) {
        e.lines = req.body.lines;
        e.amount_cents = e.lines.reduce((s, l) => s + l.amount_cents, 0);
      }
      e.updated_at = nowIso();
      emitter.emit('estimate.updated', 'estimate', e.id, { job_id: e.job_id });
      return e;
    },
  );
}
