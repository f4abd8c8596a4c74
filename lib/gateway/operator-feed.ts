/**
 * The operators' live feed (the dashboard's): a namespace of its own,
 * `{broadcasting.namespace}/operator`, that a socket may only open when `operator.authorize`
 * accepts its handshake request (the HTTP request that opened it: its headers and cookies; the
 * app's Nest middleware has not run on it). Every refusal is a `connect_error` and the socket
 * never joins. The feed is unscoped, as the operator API: every job event of every owner.
 *
 * Nothing is emitted (nor encoded) while no operator is connected, so the feed costs the job
 * path one `size` check per event.
 */
import type { Namespace, Server, Socket } from 'socket.io';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { BroadcastEventName } from './gateway.constants.js';
import { EventOrderGuard } from './event-order-guard.js';
import { NOT_AN_OPERATOR, ORIGIN_NOT_ALLOWED } from './gateway.messages.js';
import type { JobBroadcast } from './job-broadcast.payload.js';
import { isOriginAllowed, type TrustProxy } from './origin-policy.js';

/** The operator namespace of a broadcasting namespace. */
export function operatorNamespace(namespace: string): string {
  return `${namespace.replace(/\/+$/, '')}/operator`;
}

/** What the dashboard page needs to open the feed; set by the gateway once the feed is open. */
export class OperatorFeedState {
  /** The socket.io server's path (`/socket.io` unless the app's adapter says otherwise) and the namespace; null while off. */
  live: { path: string; namespace: string } | null = null;
}

export class OperatorFeed {
  private readonly guard = new EventOrderGuard();

  private constructor(private readonly namespace: Namespace) {}

  /** Opens the namespace with its handshake check; null when the dashboard is off. */
  static open(server: Server, options: ResolvedOptions, trustProxy: TrustProxy): OperatorFeed | null {
    if (!options.operator.enabled || !options.operator.dashboard || !options.operator.authorize) return null;
    const authorize = options.operator.authorize;
    const allowedOrigins = options.broadcasting.allowedOrigins;
    const namespace = server.of(operatorNamespace(options.broadcasting.namespace));
    namespace.use((socket: Socket, next: (error?: Error) => void) => {
      if (!isOriginAllowed(socket.request, allowedOrigins, trustProxy)) return next(new Error(ORIGIN_NOT_ALLOWED(String(socket.handshake.headers.origin))));
      Promise.resolve()
        .then(() => authorize(socket.request))
        .then(
          (allowed) => next(allowed === true ? undefined : new Error(NOT_AN_OPERATOR)),
          () => next(new Error(NOT_AN_OPERATOR)),
        );
    });
    return new OperatorFeed(namespace);
  }

  get name(): string {
    return this.namespace.name;
  }

  deliver(event: BroadcastEventName, job: JobBroadcast): void {
    if (!this.namespace.sockets.size || !this.guard.accept(job.jobId, job.updatedAt)) return;
    this.namespace.emit(event, job);
  }

  close(): void {
    this.namespace.disconnectSockets(true);
  }
}
