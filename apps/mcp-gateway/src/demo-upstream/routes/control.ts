import type { FastifyInstance } from 'fastify';
import type { ChaosMode, DemoUpstreamStats } from '../server';

export interface ControlOptions {
  stats(): DemoUpstreamStats;
  resetStats(): void;
  setChaos(mode: ChaosMode): void;
}

/** Control routes (not counted, no latency): `GET /__stats`, `POST /__stats/reset`, `POST /__chaos`, and `GET /health`. */
export async function controlRoutes(app: FastifyInstance, opts: ControlOptions): Promise<void> {
  app.get('/__stats', async () => opts.stats());
  app.post('/__stats/reset', async () => {
    opts.resetStats();
    return { ok: true };
  });
  app.post<{ Body: { mode: ChaosMode } }>(
    '/__chaos',
    { schema: { body: { type: 'object', required: ['mode'], properties: { mode: { enum: ['ok', 'error', 'hang'] } } } } },
    async (req) => {
      opts.setChaos(req.body.mode);
      return { mode: req.body.mode };
    },
  );
  app.get('/health', async () => ({ ok: true }));
}
