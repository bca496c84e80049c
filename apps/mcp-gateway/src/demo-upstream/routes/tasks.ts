import type { FastifyInstance } from 'fastify';
import { notFound, paginate, pagingSchema, nowIso, type Paging, type DemoContext } from '../context';

/** `/tasks` (filters, paging), create and update; emit `task.*` webhooks. */
export async function taskRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, emitter, nextId } = ctx;
  app.get<{ Querystring: Paging & { assignee_id?: string; status?: string; job_id?: string } }>(
    '/tasks',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...pagingSchema, assignee_id: { type: 'string' }, status: { type: 'string' }, job_id: { type: 'string' } },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const items = data.tasks.filter(
        (t) => (!q.assignee_id || t.assignee_id === q.assignee_id) && (!q.status || t.status === q.status) && (!q.job_id || t.job_id === q.job_id),
      );
      return paginate(items, q);
    },
  );
  app.post<{ Body: { title: string; assignee_id: string; job_id?: string; due_at?: string } }>(
    '/tasks',
    {
      schema: {
        body: {
          type: 'object',
          required: ['title', 'assignee_id'],
          properties: { title: { type: 'string', minLength: 1 }, assignee_id: { type: 'string' }, job_id: { type: 'string' }, due_at: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const t = nowIso();
      const task = {
        id: nextId('task'),
        job_id: req.body.job_id ?? null,
        assignee_id: req.body.assignee_id,
        title: req.body.title,
        status: 'open' as const,
        due_at: req.body.due_at ?? t,
        created_at: t,
        updated_at: t,
      };
      data.tasks.push(task);
      emitter.emit('task.created', 'task', task.id, { job_id: task.job_id, assignee_id: task.assignee_id });
      return reply.code(201).send(task);
    },
  );
  app.patch<{ Params: { id: string }; Body: { title?: string; status?: 'open' | 'done'; due_at?: string } }>(
    '/tasks/:id',
    {
      schema: {
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { title: { type: 'string', minLength: 1 }, status: { enum: ['open', 'done'] }, due_at: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const task = data.tasks.find((x) => x.id === req.params.id);
      if (!task) return notFound(reply, 'task', req.params.id);
      Object.assign(task, req.body, { updated_at: nowIso() });
      emitter.emit('task.updated', 'task', task.id, { job_id: task.job_id, assignee_id: task.assignee_id });
      return task;
    },
  );
}
