import type { Socket } from 'socket.io';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { ownerIdsOf } from '../owners/owner-ref.js';
import { SOCKET_OWNER_KEY } from './gateway.constants.js';
import { ORIGIN_NOT_ALLOWED, UNAUTHENTICATED } from './gateway.messages.js';
import { isOriginAllowed, type TrustProxy } from './origin-policy.js';
import type { SocketOwner } from './socket-subscriptions.js';

type Middleware = (socket: Socket, next: (error?: Error) => void) => void;

/**
 * The namespace's handshake middleware: refuses a browser origin that is not allowed, and on
 * private channels a socket whose `authenticate(socket)` throws or resolves no owner. The owner's
 * ids are kept on `socket.data` for the channel checks; the credential itself is not.
 */
export function handshakeMiddleware(options: ResolvedOptions['broadcasting'], trustProxy: TrustProxy): Middleware {
  return (socket, next) => {
    if (!isOriginAllowed(socket.request, options.allowedOrigins, trustProxy)) {
      return next(new Error(ORIGIN_NOT_ALLOWED(String(socket.handshake.headers.origin))));
    }
    if (options.channelType !== 'private') return next();
    resolveOwner(socket, options.authenticate!).then(
      (owner) => {
        if (!owner) return next(new Error(UNAUTHENTICATED));
        socket.data[SOCKET_OWNER_KEY] = owner;
        next();
      },
      () => next(new Error(UNAUTHENTICATED)),
    );
  };
}

async function resolveOwner(socket: Socket, authenticate: NonNullable<ResolvedOptions['broadcasting']['authenticate']>): Promise<SocketOwner | null> {
  const ids = ownerIdsOf(await authenticate(socket));
  return ids ? { userId: ids.userId, tenantId: ids.tenantId } : null;
}
