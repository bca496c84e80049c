import type { FastifyInstance } from 'fastify';
import { notFound, nowIso, type DemoContext } from '../context';

/** `/jobs/:id/attachments`, `DELETE /attachments/:id`; emit `attachment.*` webhooks. */
export async function attachmentRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, emitter, nextId, jobExists } = ctx;
  app.get<{ Params: { id: string } }>('/jobs/:id/attachments', async (req, reply) => {
    if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
    const items = data.attachments.filter((a) => a.job_id === req.params.id);
    return { data: items, total: items.length };
  });
  app.post<{ Params: { id: string }; Body: { filename: string; content_type?: string; size_bytes?: number } }>(
    '/jobs/:id/attachments',
    {
      schema: {
        body: {
          type: 'object',
          required: ['filename'],
          properties: { filename: { type: 'string', minLength: 1 }, content_type: { type: 'string' }, size_bytes: { type: 'integer', minimum: 0 } },
        },
      },
    },
    async (req, reply) => {
      if (!jobExists(req.params.id)) return notFound(reply, 'job', req.params.id);
      const a = {
        id: nextId('attachment'),
        job_id: req.params.id,
        filename: req.body.filename,
        content_type: req.body.content_type ?? 'application/octet-stream',
        size_bytes: req.body.size_bytes ?? 0,
        created_at: nowIso(),
      };
      data.attachments.push(a);
      emitter.emit('attachment.created', 'attachment', a.id, { job_id: a.job_id });
      return reply.code(201).send(a);
    },
  );
  app.delete<{ Params: { id: string } }>('/attachments/:id', async (req, reply) => {
    const i = data.attachments.findIndex((x) => x.id === req.params.id);
    if (i < 0) return notFound(reply, 'attachment', req.params.id);
    const [a] = data.attachments.splice(i, 1);
    emitter.emit('attachment.deleted', 'attachment', req.params.id, { job_id: a?.job_id });
    return reply.code(204).send();
  });
}
