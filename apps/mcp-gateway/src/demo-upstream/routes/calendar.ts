import type { FastifyInstance } from 'fastify';
import type { DemoContext } from '../context';

/** `GET /calendar` (by user, `from` / `to`). */
export async function calendarRoutes(app: FastifyInstance, ctx: DemoContext): Promise<void> {
  const { data } = ctx;
  app.get<{ Querystring: { user_id?: string; from?: string; to?: string } }>(
    '/calendar',
    { schema: { querystring: { type: 'object', properties: { user_id: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } } } },
    async (req) => {
      const q = req.query;
      const items = data.calendar.filter(
        (e) => (!q.user_id || e.user_id === q.user_id) && (!q.from || e.starts_at >= q.from) && (!q.to || e.starts_at < q.to),
      );
      return { data: items, total: items.length };
    },
  );
}
