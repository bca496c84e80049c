import type { CollectorObserver, ObservedEvent } from './collector';

/** The part of an OpenTelemetry `Tracer` used here (`@opentelemetry/api` is an optional peer; pass `trace.getTracer('stratacache')`). */
export interface SpanTracer {
  startSpan(name: string, options?: { startTime?: number; attributes?: Record<string, string | number | boolean> }): {
    end(endTime?: number): void;
    setStatus?(status: { code: number; message?: string }): unknown;
  };
}

/**
 * A span per origin call and per L2 round trip, built from the events after the fact (start =
 * end − measured latency), so the cache path never waits for tracing. Only subscribed when a tracer
 * is configured: zero cost otherwise.
 */
export class Tracing implements CollectorObserver {
  spans = 0;
  constructor(private readonly tracer: SpanTracer) {}

  timed(layer: 'origin' | 'l2', e: ObservedEvent, tenant: string): void {
    if (e.latencyMs === undefined) return;
    const end = performance.timeOrigin + performance.now();
    const attributes: Record<string, string | number> = { 'stratacache.layer': layer, 'stratacache.tenant': tenant, 'stratacache.event': e.type };
    if (e.entity !== undefined) attributes['stratacache.entity'] = e.entity;
    if (e.bytes !== undefined) attributes['stratacache.bytes'] = e.bytes;
    // a TieredCache's L2 read (`l2_read`) is named after its outcome, like core's own hit / miss
    const op = e.type === 'l2_read' ? (e.kind ?? 'read') : e.type;
    const span = this.tracer.startSpan(layer === 'origin' ? 'stratacache.origin' : `stratacache.l2.${op}`, { startTime: end - e.latencyMs, attributes });
    span.end(end);
    this.spans++;
  }
}
