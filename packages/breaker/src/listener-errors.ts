/**
 * Default `onListenerError` of a breaker: one process warning per event name, so a broken listener is
 * visible without flooding the logs. The breaker itself is never affected by a throwing listener.
 */
export function defaultListenerErrorHandler(breakerName: string): (error: unknown, event: string) => void {
  const warned = new Set<string>();
  return (error, event) => {
    if (warned.has(event)) return;
    warned.add(event);
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
    globalThis.process?.emitWarning?.(
      `A "${event}" listener of circuit breaker "${breakerName}" threw (${detail}); the error was ignored. Further errors from "${event}" listeners of this breaker are not reported.`,
      { code: 'STRATACACHE_BREAKER_LISTENER_ERROR' },
    );
  };
}
