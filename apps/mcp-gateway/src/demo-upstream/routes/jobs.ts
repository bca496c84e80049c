import type { FastifyInstance } from 'fastify';
import type { Job } from '../data';
import { notFound, paginate, pagingSchema, nowIso, type Paging, type DemoContext } from '../context';

/** `/jobs` (filters, paging), `/jobs/:id`; create, update (a status change adds an activity) and delete emit `job.*` webhooks. */
export async function jobRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, emitter, nextId, userFor } = ctx;
  app.get<{ Querystring: Paging & { status?: string; contact_id?: string; assigned_user_id?: string } }>(
    '/jobs',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...pagingSchema, status: { type: 'string' }, contact_id: { type: 'string' }, assigned_user_id: { type: 'string' } },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const items = data.jobs.filter(
        (j) =>
          (!q.status || j.status === q.status) &&
          (!q.contact_id || j.contact_id === q.contact_id) &&
          (!q.assigned_user_id || j.assigned_user_id === q.assigned_user_id),
      );
      return paginate(items, q);
    },
  );
  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const j = data.jobs.find((x) => x.id === req.params.id);
    return j ?? notFound(reply, 'job', req.params.id);
  });
  const jobStatus = { enum: ['lead', 'scheduled', 'in_progress', 'completed', 'cancelled'] };
  const jobBody = {
    type: 'object',
    additionalProperties: false,
    properties: {
      title: { type: 'string', minLength: 1 },
      status: jobStatus,
      contact_id: { type: 'string' },
      assigned_user_id: { type: 'string' },
      address: { type: 'string' },
      scheduled_for: { type: 'string' },
    },
  } as const;
  app.post<{ Body: Partial<Job> & { title: string; contact_id: string } }>(
    '/jobs',
    { schema: { body: { ...jobBody, required: ['title', 'contact_id'] } } },
    async (req, reply) => {
      if (!data.contacts.some((c) => c.id === req.body.contact_id)) {
        return reply.code(422).send({ error: 'unprocessable', message: `contact ${req.body.contact_id} does not exist` });
      }
      const t = nowIso();
      const j: Job = {
        id: nextId('job'),
        status: 'lead',
        assigned_user_id: 'user-2',
        address: '',
        scheduled_for: t,
        ...req.body,
        created_at: t,
        updated_at: t,
      };
      data.jobs.push(j);
      emitter.emit('job.created', 'job', j.id, { contact_id: j.contact_id });
      return reply.code(201).send(j);
    },
  );
  app.patch<{ Params: { id: string }; Body: Partial<Job> }>(
    '/jobs/:id',
    { schema: { body: { ...jobBody, minProperties: 1 } } },
    async (req, reply) => {
      const j = data.jobs.find((x) => x.id === req.params.id);
      if (!j) return notFound(reply, 'job', req.params.id);
      const before = j.status;
      Object.assign(j, req.body, { updated_at: nowIso() });
      if (req.body.status && req.body.status !== before) {
        data.activities.push({
          id: nextId('activity'),
          job_id: j.id,
          user_id: userFor(req)?.id ?? 'user-1',
          kind: 'status_change',
          text: `Status changed from ${before} to ${j.status}`,
          created_at: j.updated_at,
        });
      }
      emitter.emit('job.updated', 'job', j.id, { contact_id: j.contact_id });
      return j;
    },
  );
  app.delete<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const i = data.jobs.findIndex((x) => x.id === req.params.id);
    if (i < 0) return notFound(reply, 'job', req.params.id);
    const [j] = data.jobs.splice(i, 1);
    emitter.emit('job.deleted', 'job', req.params.id, { contact_id: j?.contact_id });
    return reply.code(204).send();
  });
}
