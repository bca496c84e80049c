import type { FastifyInstance } from 'fastify';
import { notFound, nowIso, type DemoContext } from '../context';

/** `/jobs/:id/activities` (list, add a note / call / email); emit `activity.created`. */
export async function activityRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, emitter, nextId, userFor, jobExists } = ctx;
  app.get<{ Params: { id: string } }>('/jobs/:id/activities', async (req, reply) => {
    if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
    const items = data.activities.filter((a) => a.job_id === req.params.id);
    return { data: items, total: items.length };
  });
  app.post<{ Params: { id: string }; Body: { kind?: 'note' | 'call' | 'email'; text: string } }>(
    '/jobs/:id/activities',
    {
      schema: {
        body: {
          type: 'object',
          required: ['text'],
          properties: { kind: { enum: ['note', 'call', 'email'] }, text: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (req, reply) => {
      if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
      const a = {
        id: nextId('activity'),
        job_id: req.params.id,
        user_id: userFor(req)?.id ?? 'user-1',
        kind: req.body.kind ?? ('note' as const),
        text: req.body.text,
        created_at: nowIso(),
      };
      data.activities.push(a);
      emitter.emit('activity.created', 'activity', a.id, { job_id: a.job_id });
      return reply.code(201).send(a);
    },
  );
}
