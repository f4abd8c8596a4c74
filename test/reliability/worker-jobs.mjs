/**
 * The jobs the reliability specs run in real worker processes (see worker-app.mjs), in plain JS:
 * Nest's decorators are applied as functions.
 *
 * Every run records what it really did in the side table `job_effects` (through its own
 * connection, not the library's), so the specs count executions independently of the ledger:
 * a `start` row when the handler begins and an `end` row when it finishes its work.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { defineQueueJobs } from '../queue/queue-worker-jobs.mjs';
import { defineWorkflowJobs } from '../workflows/workflow-worker-jobs.mjs';

/** One protocol line on stdout (a single write below PIPE_BUF, so lines never interleave). */
export function report(message) {
  process.stdout.write(`@@NMJ ${JSON.stringify({ ...message, at: Date.now() })}\n`);
}

export async function defineTestJobs(lib, config) {
  const { ManagedJob, JobFencedError } = lib;
  const workerId = config.worker.id ?? String(process.pid);
  const effects = await openEffects(config);

  /**
   * payload: { ms: total work time, firstRunMs: work time of the first claim only (a run to
   * interrupt, whose re-run is short), steps: progress/state writes along the way, cooperative:
   * return early when ctx.signal aborts (default true), saveState: checkpoint at every step,
   * swallowFenced: keep going after a fenced write (to exercise every write of a zombie) }.
   */
  async function work(ctx) {
    const p = ctx.payload ?? {};
    const steps = Math.max(1, p.steps ?? 1);
    const cooperative = p.cooperative ?? true;
    const ms = ctx.job.fence === 1 && p.firstRunMs ? p.firstRunMs : p.ms;
    await effects.record(ctx, workerId, 'start');
    for (let i = 1; i <= steps; i++) {
      if (cooperative && ctx.signal.aborted) return aborted(ctx);
      if (ms) await sleep(ms / steps);
      await ctx.updateProgress((i / steps) * 100, `step ${i} of ${steps} on ${workerId}`);
      if (p.saveState) {
        try {
          await ctx.saveState({ step: i, worker: workerId });
        } catch (error) {
          if (!(error instanceof JobFencedError) || !p.swallowFenced) throw error;
          report({ type: 'fenced', jobId: ctx.jobId, fence: ctx.job.fence, op: 'saveState' });
        }
      }
    }
    if (cooperative && ctx.signal.aborted) return aborted(ctx);
    await effects.record(ctx, workerId, 'end');
    return { worker: workerId, attempt: ctx.attempt, fence: ctx.job.fence };
  }

  /** A cooperative run noticed its signal: say when and why (the specs time stop requests with it). */
  function aborted(ctx) {
    report({ type: 'aborted', jobId: ctx.jobId, fence: ctx.job.fence, reason: ctx.signal.reason?.reason });
    return { interrupted: true };
  }

  class WorkJob {
    handle(ctx) {
      return work(ctx);
    }
  }
  ManagedJob({ name: 'work' })(WorkJob);
  Injectable()(WorkJob);

  /** The same work with a side effect that must not happen twice: a lost run is failed, not re-run. */
  class UnsafeWorkJob {
    handle(ctx) {
      return work(ctx);
    }
  }
  ManagedJob({ name: 'work-unsafe', idempotent: false })(UnsafeWorkJob);
  Injectable()(UnsafeWorkJob);

  /**
   * CPU-bound work: blocks the event loop for payload.busyMs in one synchronous loop (no timer,
   * no I/O, no heartbeat from this thread can run meanwhile), between a `start` and an `end` effect.
   */
  class CpuJob {
    async handle(ctx) {
      await effects.record(ctx, workerId, 'start');
      const until = Date.now() + (ctx.payload?.busyMs ?? 0);
      let spins = 0;
      while (Date.now() < until) spins++;
      await effects.record(ctx, workerId, 'end');
      return { worker: workerId, spins: spins > 0 };
    }
  }
  ManagedJob({ name: 'cpu' })(CpuJob);
  Injectable()(CpuJob);

  /** Reports every job event this process emits (to prove a zombie emits none). */
  class EventsTap {
    on(event) {
      const job = event.job;
      report({
        type: 'event',
        name: event.name,
        jobId: job.jobId,
        status: job.status,
        fence: job.fence,
        progress: job.progressPercentage,
        worker: workerId,
      });
    }
  }
  OnEvent('managed-job.*')(EventsTap.prototype, 'on', Object.getOwnPropertyDescriptor(EventsTap.prototype, 'on'));
  Injectable()(EventsTap);

  // Unique, concurrency and rate-limited jobs (test/queue/processes.spec.ts).
  const queueJobs = defineQueueJobs(lib, report);
  // Batches, chains and DAGs (test/workflows/processes.spec.ts).
  const workflowJobs = defineWorkflowJobs(lib, report);
  return { providers: [WorkJob, UnsafeWorkJob, CpuJob, EventsTap, ...queueJobs, ...workflowJobs], close: () => effects.close() };
}

/** The side table writer. Retries through a database restart or a busy SQLite file. */
async function openEffects(config) {
  const { database } = config;
  let insert;
  let close;
  if (database.type === 'postgres') {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      ...(database.url
        ? { connectionString: database.url }
        : { host: database.host, port: database.port, user: database.username, password: database.password, database: database.database }),
      max: 2,
    });
    pool.on('error', () => undefined); // a dropped idle connection is replaced on next use
    insert = (row) =>
      pool.query('INSERT INTO job_effects (job_id, fence, attempt, worker, phase) VALUES ($1, $2, $3, $4, $5)', row);
    close = () => pool.end();
  } else if (database.type === 'mariadb' || database.type === 'mysql') {
    const { default: mysql } = await import('mysql2/promise');
    const pool = mysql.createPool({ host: database.host, port: database.port, user: database.username, password: database.password, database: database.database, connectionLimit: 2 });
    insert = (row) => pool.execute('INSERT INTO job_effects (job_id, fence, attempt, worker, phase) VALUES (?, ?, ?, ?, ?)', row);
    close = () => pool.end();
  } else {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(database.database, { timeout: 5000 });
    const stmt = db.prepare('INSERT INTO job_effects (job_id, fence, attempt, worker, phase) VALUES (?, ?, ?, ?, ?)');
    insert = async (row) => stmt.run(...row);
    close = () => db.close();
  }
  return {
    async record(ctx, worker, phase) {
      const row = [ctx.jobId, ctx.job.fence, ctx.attempt, worker, phase];
      for (let attempt = 1; ; attempt++) {
        try {
          return await insert(row);
        } catch (error) {
          if (attempt >= 120) throw error;
          await sleep(Math.min(1000, 50 * attempt));
        }
      }
    },
    close: () => Promise.resolve(close()).catch(() => undefined),
  };
}
