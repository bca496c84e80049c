import type { FastifyInstance } from 'fastify';
import type { User } from '../data';
import { notFound, type DemoContext } from '../context';

const publicUser = (u: User): Omit<User, 'api_key'> => {
  const { api_key: _k, ...rest } = u;
  return rest;
};

/** `/me` (the caller, by API key), `/users`, `/users/:id` (API keys never shown). */
export async function userRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data, userFor } = ctx;
  app.get('/me', async (req, reply) => {
    const u = userFor(req);
    return u ? { ...publicUser(u), tasks_open: data.tasks.filter((t) => t.assignee_id === u.id && t.status === 'open').length } : reply.code(401).send({ error: 'unauthorized', message: 'no API key' });
  });
  app.get('/users', async () => ({ data: data.users.map(publicUser), total: data.users.length }));
  app.get<{ Params: { id: string } }>('/users/:id', async (req, reply) => {
    const u = data.users.find((x) => x.id === req.params.id);
    return u ? publicUser(u) : notFound(reply, 'user', req.params.id);
  });
}
