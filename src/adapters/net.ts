import { connect } from 'node:net';
import type { NetAdapter } from './types.js';

export function createNetAdapter(): NetAdapter {
  return {
    tcpProbe(host, port, timeoutMs = 3000) {
      return new Promise((resolve) => {
        const started = Date.now();
        const socket = connect({ host, port });
        const finish = (result: { ok: true; ms: number } | { ok: false; reason: string }) => {
          socket.destroy();
          resolve(result);
        };
        socket.setTimeout(timeoutMs, () =>
          finish({ ok: false, reason: `no answer within ${timeoutMs} ms (filtered or down)` }),
        );
        socket.once('connect', () => finish({ ok: true, ms: Date.now() - started }));
        socket.once('error', (error: NodeJS.ErrnoException) => {
          const reasons: Record<string, string> = {
            ECONNREFUSED: 'connection refused (nothing listening there)',
            ENOTFOUND: 'no such host (DNS)',
            EAI_AGAIN: 'DNS lookup failed (temporary)',
            EHOSTUNREACH: 'host unreachable',
            ENETUNREACH: 'network unreachable',
          };
          finish({ ok: false, reason: reasons[error.code ?? ''] ?? error.code ?? error.message });
        });
      });
    },
  };
}
