/**
 * The socket.io gateway: pushes every job's life to its owner's and tenant's rooms.
 *
 * The namespace, channel type and origins come from the (possibly async) module options, which
 * `@WebSocketGateway()` metadata cannot see. So this gateway sits on the app's socket.io server
 * without handlers of its own and, once Nest hands it the server, opens the configured namespace
 * there (`server.of(namespace)`) with our handshake middleware and message handlers. The app's
 * own gateways and its `IoAdapter` settings (path, CORS, adapter) are shared, not replaced.
 *
 * Events reach the rooms by two paths: from this process directly (`JobEventsPublisher`), and,
 * on PostgreSQL, from other processes through `JobEventsRelay` / LISTEN. Each path keeps a job's
 * events in order, and `RoomBroadcaster` drops any that arrive older than one already sent.
 *
 * No `@WebSocketGateway()` here: `@nestjs/websockets` and socket.io are optional peers, so this
 * file imports them as types only. `gateway-activation.ts` makes one subclass per module
 * registration and applies the decorator to it at boot, when those packages are installed.
 */
import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { OnGatewayInit } from '@nestjs/websockets';
import type { Server } from 'socket.io';
import { JOB_STORE, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { JobStatus } from '../enums/job-status.enum.js';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import type { JobStore } from '../store/job-store.interface.js';
import { BroadcastEvents, SNAPSHOT_LIMIT, type BroadcastEventName } from './gateway.constants.js';
import { broadcastEventName, toJobBroadcast, type JobBroadcast } from './job-broadcast.payload.js';
import { JobEventsRelay } from './job-events.relay.js';
import { allowCrossOrigin, expressTrustProxy } from './origin-policy.js';
import { PUBLIC_ROOMS } from './gateway.messages.js';
import { decodeBatchRelayMessage, decodeRelayMessage } from './relay-message.js';
import { BatchBroadcaster, toBatchBroadcast } from './batch-broadcaster.js';
import { BatchBroadcastEvents } from './gateway.constants.js';
import { ManagedBatchEvents } from '../workflows/batch.events.js';
import { RoomBroadcaster } from './room-broadcaster.js';
import { OperatorFeed, OperatorFeedState } from './operator-feed.js';
import { handshakeMiddleware } from './socket-authenticator.js';
import { handleSubscriptions, type SnapshotFilter } from './socket-subscriptions.js';

@Injectable()
export class ManagedJobsGateway implements OnGatewayInit<Server>, OnApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  private readonly teardown: Array<() => void> = [];
  private remote: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    private readonly events: JobEventsPublisher,
    private readonly relay: JobEventsRelay,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
    @Optional() private readonly feedState?: OperatorFeedState,
  ) {}

  afterInit(server: Server): void {
    const options = this.options.broadcasting;
    if (!options.enabled) return;
    if (typeof server?.of !== 'function') {
      this.logger.error('The WebSocket adapter is not socket.io (@nestjs/platform-socket.io); job events are not broadcast.');
      return;
    }
    const namespace = server.of(options.namespace);
    const broadcaster = new RoomBroadcaster(namespace, options.channelPrefix, options.channelType);
    const trustProxy = expressTrustProxy(this.adapterHost?.httpAdapter?.getInstance?.());
    namespace.use(handshakeMiddleware(options, trustProxy));
    // The dashboard's feed (every job, operators only): see operator-feed.ts.
    const feed = OperatorFeed.open(server, this.options, trustProxy);
    if (feed && this.feedState) {
      this.feedState.live = { path: server.path(), namespace: feed.name };
      this.teardown.push(() => feed.close());
    }
    if (options.channelType === 'public') this.logger.warn(PUBLIC_ROOMS(options.namespace));
    const onConnection = (socket: Parameters<typeof handleSubscriptions>[0]) =>
      handleSubscriptions(socket, {
        prefix: options.channelPrefix,
        channelType: options.channelType,
        broadcaster,
        snapshot: (filter) => this.snapshot(filter),
        logger: this.logger,
      });
    namespace.on('connection', onConnection);
    this.teardown.push(() => namespace.off('connection', onConnection));
    if (options.allowedOrigins?.length) this.teardown.push(allowCrossOrigin(server, options.allowedOrigins));

    this.teardown.push(
      this.events.subscribe((event) => {
        const name = broadcastEventName(event.name);
        if (!name) return;
        const job = toJobBroadcast(event.job, name === BroadcastEvents.Completed);
        broadcaster.deliver(name, job);
        feed?.deliver(name, job);
      }),
    );
    // Batch events (lib/workflows): to the owner's rooms, coalesced like job progress.
    const batches = new BatchBroadcaster(namespace, options.channelPrefix, options.channelType, this.options.progressIntervalMs);
    this.teardown.push(() => batches.close());
    this.teardown.push(
      this.events.subscribeBatches((event) =>
        batches.deliver(event.name === ManagedBatchEvents.Finished ? BatchBroadcastEvents.Finished : BatchBroadcastEvents.Progress, toBatchBroadcast(event.batch)),
      ),
    );
    if (this.store.capabilities.crossProcessEvents) {
      void this.store
        .listenEvents((text) => this.onRemoteEvent(text, broadcaster, feed, batches))
        .catch((error) => this.logger.warn(`Could not LISTEN for job events of other processes: ${(error as Error).message}`));
    }
  }

  /** Events of other processes, one at a time so that a job's events keep their order. */
  private onRemoteEvent(text: string, broadcaster: RoomBroadcaster, feed: OperatorFeed | null, batches: BatchBroadcaster): void {
    const batch = decodeBatchRelayMessage(text);
    if (batch) {
      if (batch.origin !== this.relay.origin) batches.deliver(batch.batchEvent, batch.message);
      return;
    }
    const message = decodeRelayMessage(text);
    if (!message || message.origin === this.relay.origin) return; // ours went out directly
    this.remote = this.remote.then(async () => {
      if (this.closed) return;
      const job = 'job' in message ? message.job : await this.load(message.jobId, message.event);
      if (!job) return;
      broadcaster.deliver(message.event, job);
      feed?.deliver(message.event, job);
    });
  }

  /** An event too big for NOTIFY came as an id: read the row (its state now, never older). */
  private async load(jobId: string, event: BroadcastEventName): Promise<JobBroadcast | null> {
    try {
      const row = await this.store.find(jobId);
      return row ? toJobBroadcast(row, event === BroadcastEvents.Completed) : null;
    } catch (error) {
      this.logger.warn(`Could not read job ${jobId} for ${event}: ${(error as Error).message}`);
      return null;
    }
  }

  /** Active jobs of a subscription, newest first, as its subscriber sees them before any live event. */
  private async snapshot(filter: SnapshotFilter): Promise<{ jobs: JobBroadcast[]; truncated: boolean }> {
    const { rows, total } = await this.store.list({ ...filter, statuses: [JobStatus.Pending, JobStatus.Running], offset: 0, limit: SNAPSHOT_LIMIT });
    return { jobs: rows.map((job) => toJobBroadcast(job)), truncated: total > rows.length };
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    for (const undo of this.teardown.splice(0)) undo();
    await this.remote;
  }
}
