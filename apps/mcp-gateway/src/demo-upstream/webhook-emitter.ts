import { signWebhook } from '../webhooks/signature';

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Event names to send (`job.updated`), `*` for all. Default all. */
  events?: string[];
}

export interface WebhookPayload {
  id: string;
  event: string;
  resource_type: string;
  resource_id: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

export interface WebhookEmitterOptions {
  targets: () => WebhookTarget[];
  onResult?: (ok: boolean, target: WebhookTarget, status?: number) => void;
  /** Per delivery timeout (default 5 s). */
  timeoutMs?: number;
}

/** Sends signed webhooks (`X-Signature: t=<unix>,v1=<hex>`) after writes, fire-and-forget. */
export class WebhookEmitter {
  private seq = 0;
  private readonly inflight = new Set<Promise<void>>();
  constructor(private readonly opts: WebhookEmitterOptions) {}

  emit(event: string, resourceType: string, resourceId: string, data: Record<string, unknown> = {}): void {
    const payload: WebhookPayload = {
      id: `evt_${Date.now().toString(36)}_${++this.seq}`,
      event,
      resource_type: resourceType,
      resource_id: resourceId,
      occurred_at: new Date().toISOString(),
      data,
    };
    for (const target of this.opts.targets()) {
      if (target.events && !target.events.includes('*') && !target.events.includes(event)) continue;
      const p = this.deliver(target, payload).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  private async deliver(target: WebhookTarget, payload: WebhookPayload): Promise<void> {
    const body = JSON.stringify(payload);
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': signWebhook(target.secret, body) },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      this.opts.onResult?.(res.ok, target, res.status);
    } catch {
      this.opts.onResult?.(false, target);
    }
  }

  /** Waits for deliveries in flight (used on close and in tests). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
