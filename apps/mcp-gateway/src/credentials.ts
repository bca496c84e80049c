import { createHmac } from 'node:crypto';

/**
 * Scope of a caller-dependent cache entry: HMAC-SHA256 of the credential with a server
 * secret, truncated to 16 hex chars (64 bits). The credential never appears in a key in
 * clear, and without the secret the scope cannot be linked back to a key by brute force.
 */
export function credentialScope(secret: string, credential: string | undefined): string {
  if (!credential) return 'anon';
  return createHmac('sha256', secret).update(credential).digest('hex').slice(0, 16);
}
