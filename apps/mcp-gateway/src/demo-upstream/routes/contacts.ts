import type { FastifyInstance } from 'fastify';
import { notFound, paginate, pagingSchema, nowIso, type Paging, type DemoContext } from '../context';

/** `/contacts` (search, paging), `/contacts/:id`, `/contacts/:id/jobs`; create and update emit `contact.*` webhooks. */
export async function contactRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, emitter, nextId } = ctx;
  app.get<{ Querystring: Paging & { search?: string } }>(
    '/contacts',
    { schema: { querystring: { type: 'object', properties: { ...pagingSchema, search: { type: 'string' } } } } },
    async (req) => {
      const s = req.query.search?.toLowerCase();
      const items = s ? data.contacts.filter((c) => `${c.name} ${c.email} ${c.company}`.toLowerCase().includes(s)) : data.contacts;
      return paginate(items, req.query);
    },
  );
  app.get<{ Params: { id: string } }>('/contacts/:id', async (req, reply) => {
    const c = data.contacts.find((x) => x.id === req.params.id);
    return c ?? notFound(reply, 'contact', req.params.id);
  });
  app.get<{ Params: { id: string } }>('/contacts/:id/jobs', async (req, reply) => {
    if (!data.contacts.some((x) => x.id === req.params.id)) return notFound(reply, 'contact', req.params.id);
    const items = data.jobs.filter((j) => j.contact_id === req.params.id);
    return { data: items, total: items.length };
  });
  const contactBody = {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1 },
      email: { type: 'string', minLength: 3 },
      phone: { type: 'string' },
      company: { type: 'string' },
    },
  } as const;
  app.post<{ Body: { name: string; email: string; phone?: string; company?: string } }>(
    '/contacts',
    { schema: { body: { ...contactBody, required: ['name', 'email'] } } },
    async (req, reply) => {
      const t = nowIso();
      const c = { id: nextId('contact'), phone: '', company: '', ...req.body, created_at: t, updated_at: t };
      data.contacts.push(c);
      emitter.emit('contact.created', 'contact', c.id);
      return reply.code(201).send(c);
    },
  );
  app.patch<{ Params: { id: string }; Body: Record<string, string> }>(
    '/contacts/:id',
    { schema: { body: { ...contactBody, minProperties: 1 } } },
    async (req, reply) => {
      const c = data.contacts.find((x) => x.id === req.params.id);
      if (!c) return notFound(reply, 'contact', req.params.id);
      Object.assign(c, req.body, { updated_at: nowIso() });
      emitter.emit('contact.updated', 'contact', c.id);
      return c;
    },
  );
}
