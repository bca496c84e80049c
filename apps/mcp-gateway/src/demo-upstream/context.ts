import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CrmData, User } from './data';
import type { WebhookEmitter } from './webhook-emitter';

/**
 * What every resource plugin of the demo upstream shares (passed as the plugin's options): the
 * data set, the webhook emitter, the id sequence and the caller lookup.
 */
export interface DemoContext {
  data: CrmData;
  emitter: WebhookEmitter;
  /** Next id of a kind: `job-1001`, `task-1002`, … (one sequence for all kinds). */
  nextId: (kind: string) => string;
  /** The user of the request's API key (`X-Api-Key` or `Authorization: Bearer`). */
  userFor: (req: FastifyRequest) => User | undefined;
  jobExists: (id: string) => boolean;
}

export interface Paging {
  page?: number;
  limit?: number;
}

export const pagingSchema = {
  page: { type: 'integer', minimum: 1, default: 1 },
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
} as const;

export function paginate<T>(items: T[], q: Paging): { data: T[]; page: number; limit: number; total: number } {
  const page = q.page ?? 1;
  const limit = q.limit ?? 20;
  return { data: items.slice((page - 1) * limit, page * limit), page, limit, total: items.length };
}

export function notFound(reply: FastifyReply, what: string, id: string): FastifyReply {
  return reply.code(404).send({ error: 'not_found', message: `${what} ${id} not found` });
}

export const nowIso = (): string => new Date().toISOString();
