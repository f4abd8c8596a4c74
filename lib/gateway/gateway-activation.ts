import { Logger, type Provider, type Type } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import { GATEWAY_PEER_MISSING } from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { firstMissingPeer } from '../optional-peers.js';
import { GATEWAY_STATE } from './gateway.constants.js';
import { ManagedJobsGateway } from './managed-jobs.gateway.js';

/** Whether the gateway of one module registration serves sockets, and if not, why. */
export type GatewayState = { on: true } | { on: false; reason: string };

/**
 * The gateway of one module registration: its own subclass of `ManagedJobsGateway` (so turning it
 * on for one app in a process never turns it on for another) and the provider that turns it on.
 *
 * That provider runs while Nest builds the providers, before `app.init()` connects gateways, and
 * sees the resolved options, so `forRoot` and `forRootAsync` follow one rule: the gateway serves
 * sockets when `broadcasting.enabled` and the socket.io peers are installed. Then it applies
 * `@WebSocketGateway()` to the subclass; otherwise the subclass stays a plain provider that Nest
 * never connects (and never loads `@nestjs/platform-socket.io` for), and one warning names the
 * missing package.
 */
export function managedJobsGatewayParts(): Provider[] {
  const gateway: Type<ManagedJobsGateway> = class ManagedJobsGatewayOfModule extends ManagedJobsGateway {};
  return [
    gateway,
    {
      provide: GATEWAY_STATE,
      inject: [RESOLVED_OPTIONS],
      useFactory: (options: ResolvedOptions) => activateGateway(gateway, options),
    },
  ];
}

async function activateGateway(gateway: Type<ManagedJobsGateway>, options: ResolvedOptions): Promise<GatewayState> {
  if (!options.broadcasting.enabled) return { on: false, reason: 'broadcasting.enabled is false' };
  const missing = await firstMissingPeer({
    '@nestjs/websockets': () => import('@nestjs/websockets'),
    '@nestjs/platform-socket.io': () => import('@nestjs/platform-socket.io'),
    'socket.io': () => import('socket.io'),
  });
  if (missing) {
    new Logger('ManagedJobs').warn(GATEWAY_PEER_MISSING(missing));
    return { on: false, reason: `${missing} is not installed` };
  }
  const { WebSocketGateway } = await import('@nestjs/websockets');
  WebSocketGateway()(gateway);
  return { on: true };
}
