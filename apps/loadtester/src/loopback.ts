// Every target of a run must be on this machine: 127.0.0.0/8, localhost or [::1].
export class TargetError extends Error {
  override name = 'TargetError';
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** Returns the URL when its host is a loopback address; throws TargetError otherwise. */
export function requireLoopback(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TargetError(`${what}: not a URL: ${url}`);
  }
  if (!isLoopbackHost(u.hostname)) throw new TargetError(`${what}: ${u.hostname} is not a loopback address (127.0.0.0/8, localhost, [::1]); the load tester only targets this machine`);
  return u;
}
