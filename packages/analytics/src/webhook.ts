import type { Alert } from './alerts';

export interface WebhookOptions {
  url: string;
  /** Attempts after the first. Default 5. */
  retries?: number;
  /** First backoff; doubles each retry. Default 500 ms. */
  backoffMs?: number;
  /** Backoff cap. Default 30 s. */
  maxBackoffMs?: number;
  /** Per attempt. Default 5 s. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface DeliveryAttempt {
  at: number;
  status?: number;
  error?: string;
}

const COLOR = { info: '#439FE0', warning: '#ECB22E', critical: '#E01E5A', resolved: '#2EB67D' } as const;

/** A Slack-compatible incoming-webhook body (`text` + one attachment), plus the raw alert under `alert`. */
export function slackBody(a: Alert): Record<string, unknown> {
  const resolved = a.status === 'resolved';
  const head = resolved ? `RESOLVED ${a.ruleId}` : `[${a.severity.toUpperCase()}] ${a.ruleId}`;
  return {
    text: `${head}: ${a.message}`,
    attachments: [
      {
        color: resolved ? COLOR.resolved : COLOR[a.severity],
        title: head,
        text: a.message,
        fields: [
          { title: 'rule', value: a.type, short: true },
          { title: 'value', value: String(round(a.value)), short: true },
          { title: 'threshold', value: String(a.threshold), short: true },
          { title: 'instance', value: a.instance, short: true },
        ],
        ts: Math.floor((resolved ? (a.resolvedAt ?? a.firedAt) : a.firedAt) / 1000),
      },
    ],
    alert: { id: a.id, ruleId: a.ruleId, type: a.type, status: a.status, severity: a.severity, value: a.value, threshold: a.threshold, firedAt: a.firedAt },
  };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** POSTs the body, retrying non-2xx answers and network errors with exponential backoff. Records every attempt; never throws. */
export async function deliver(opts: WebhookOptions, body: unknown, attempts: DeliveryAttempt[]): Promise<boolean> {
  const retries = opts.retries ?? 5;
  const base = opts.backoffMs ?? 500;
  const cap = opts.maxBackoffMs ?? 30_000;
  for (let i = 0; i <= retries; i++) {
    const rec: DeliveryAttempt = { at: Date.now() };
    attempts.push(rec);
    try {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
      });
      rec.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
    } catch (err) {
      rec.error = err instanceof Error ? err.message : String(err);
    }
    if (i < retries) await new Promise((r) => setTimeout(r, Math.min(cap, base * 2 ** i)).unref());
  }
  return false;
}
