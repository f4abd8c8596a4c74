import { Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { ManagedJobEvent, ManagedJobEventName } from './managed-job.events.js';

export type JobEventListener = (event: ManagedJobEvent) => void;

/**
 * Fans every lifecycle event out to `@OnEvent` listeners (when `EventEmitterModule` is imported)
 * and to internal subscribers such as the socket.io gateway. A throwing listener is logged and
 * never reaches the job.
 */
@Injectable()
export class JobEventsPublisher {
  private readonly logger = new Logger('ManagedJobs');
  private readonly listeners = new Set<JobEventListener>();

  constructor(@Optional() private readonly emitter?: EventEmitter2) {}

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
}
