import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EventEmitter2 } from '@nestjs/event-emitter';
import type { ManagedJobEvent, ManagedJobEventName } from './managed-job.events.js';
import { loadOptionalPeer } from '../optional-peers.js';
import { EVENT_EMITTER_MISSING } from '../managed-jobs.messages.js';
import type { ManagedBatchEvent } from '../workflows/batch.events.js';

export type JobEventListener = (event: ManagedJobEvent) => void;

/**
 * Fans every lifecycle event out to `@OnEvent` listeners (when `EventEmitterModule` is imported)
 * and to internal subscribers such as the socket.io gateway. A throwing listener is logged and
 * never reaches the job.
 *
 * `@nestjs/event-emitter` is an optional peer: it is imported lazily here, once, so the package
 * loads and runs jobs without it (there is then simply no `@OnEvent` to call).
 */
@Injectable()
export class JobEventsPublisher implements OnModuleInit {
  private readonly logger = new Logger('ManagedJobs');
  private readonly listeners = new Set<JobEventListener>();
  private readonly batchListeners = new Set<(event: ManagedBatchEvent) => void>();
  private emitter?: EventEmitter2;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** Finds the app's `EventEmitter2` (from `EventEmitterModule.forRoot()`), if there is one. */
  async onModuleInit(): Promise<void> {
    const peer = await loadOptionalPeer<typeof import('@nestjs/event-emitter')>('@nestjs/event-emitter', () => import('@nestjs/event-emitter'));
    if (!peer) return this.logger.log(EVENT_EMITTER_MISSING());
    try {
      this.emitter = this.moduleRef.get(peer.EventEmitter2, { strict: false });
    } catch {
      this.emitter = undefined; // EventEmitterModule.forRoot() not imported: no @OnEvent listeners
    }
  }

  /** Whether `@OnEvent` listeners can be reached (the package is installed and its module imported). */
  get hasEmitter(): boolean {
    return this.emitter !== undefined;
  }

  /** Subscribe to every event published in this process; returns the unsubscribe function. */
  subscribe(listener: JobEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether anyone would receive an event of this name (so a busy worker can skip building it). */
  wants(name: ManagedJobEventName): boolean {
    if (this.listeners.size > 0) return true;
    if (!this.emitter) return false;
    return Boolean(this.emitter.hasListeners(name)) || this.emitter.listenersAny().length > 0;
  }

  publish(event: ManagedJobEvent): void {
    if (this.emitter) {
      try {
        this.emitter.emit(event.name, event);
      } catch (error) {
        this.logger.error(`A listener of ${event.name} threw: ${(error as Error).message}`, (error as Error).stack);
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(`A subscriber of ${event.name} threw: ${(error as Error).message}`, (error as Error).stack);
      }
    }
  }

  /** Subscribe to the batch events of this process (lib/workflows); returns the unsubscribe function. */
  subscribeBatches(listener: (event: ManagedBatchEvent) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  /** Whether anyone would receive a batch event (so that a member's end can skip reading its batch's running count). */
  wantsBatches(): boolean {
    if (this.batchListeners.size > 0) return true;
    if (!this.emitter) return false;
    return Boolean(this.emitter.hasListeners('managed-batch.progress') || this.emitter.hasListeners('managed-batch.finished')) || this.emitter.listenersAny().length > 0;
  }

  /** `managed-batch.progress` / `managed-batch.finished`, to `@OnEvent` listeners and batch subscribers. */
  publishBatch(event: ManagedBatchEvent): void {
    try {
      this.emitter?.emit(event.name, event);
    } catch (error) {
      this.logger.error(`A listener of ${event.name} threw: ${(error as Error).message}`, (error as Error).stack);
    }
    for (const listener of this.batchListeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(`A subscriber of ${event.name} threw: ${(error as Error).message}`, (error as Error).stack);
      }
    }
  }
}
