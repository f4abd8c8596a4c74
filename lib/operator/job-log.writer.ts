/**
 * Keeps `ctx.log` lines with their job, in batches: a line is pushed to a buffer (no statement),
 * and the buffer goes out every `FLUSH_MS` (or at `MAX_BUFFER` lines) as one multi-row INSERT per
 * `ROWS_PER_STATEMENT` lines, whatever the number of jobs. Each job keeps its last `KEEP` lines:
 * a job is trimmed the first time this process writes for it and then every `TRIM_EVERY` lines,
 * so it holds at most `KEEP + TRIM_EVERY` lines between trims. Handlers that never log cost nothing.
 *
 * A line is also sent to the Nest logger with the job id.
 */
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { newJobId } from '../ids/job-id.js';
import { JOB_LOGS_NOT_WRITTEN } from '../managed-jobs.messages.js';
import { utcText } from '../store/row-mapper.js';
import { OperatorStore } from './operator.store.js';
import type { LogLine } from './sql/operator-sql.interface.js';

export const KEEP = 1000;
const TRIM_EVERY = 200;
const FLUSH_MS = 250;
const MAX_BUFFER = 2000;
const ROWS_PER_STATEMENT = 200;
const MAX_MESSAGE = 8000;
const MAX_DATA = 16_000;
/** A job that wrote nothing for this long is forgotten (its next line trims again). */
const FORGET_MS = 60_000;

export type LogLevel = 'info' | 'warn' | 'error';

@Injectable()
export class JobLogWriter implements OnApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  private buffer: LogLine[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** Lines written per job since its last trim, and when it last wrote. */
  private readonly sinceTrim = new Map<string, { lines: number; at: number }>();

  constructor(private readonly store: OperatorStore) {}

  write(jobId: string, level: LogLevel, message: unknown, data?: unknown): void {
    const text = String(message ?? '').slice(0, MAX_MESSAGE);
    const json = data === undefined || data === null ? null : serialise(data);
    this.buffer.push({ logId: newJobId(), jobId, at: utcText(new Date()), level, message: text, data: json });
    const line = `[job ${jobId}] ${text}`;
    if (level === 'error') this.logger.error(line);
    else if (level === 'warn') this.logger.warn(line);
    else this.logger.log(line);
    if (this.buffer.length >= MAX_BUFFER) this.flushSoon(0);
    else this.flushSoon(FLUSH_MS);
  }

  /** Writes what is buffered now (tests, shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (!this.buffer.length) return;
    this.flushing = this.writeOut().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref();
  }

  private async writeOut(): Promise<void> {
    const lines = this.buffer;
    this.buffer = [];
    const trims: string[] = [];
    const now = Date.now();
    for (const line of lines) {
      const seen = this.sinceTrim.get(line.jobId);
      if (!seen) {
        this.sinceTrim.set(line.jobId, { lines: 1, at: now });
        trims.push(line.jobId);
      } else {
        seen.at = now;
        if (++seen.lines >= TRIM_EVERY) {
          seen.lines = 0;
          trims.push(line.jobId);
        }
      }
    }
    try {
      for (let i = 0; i < lines.length; i += ROWS_PER_STATEMENT) await this.store.write(this.store.sql.insertLogs(lines.slice(i, i + ROWS_PER_STATEMENT)));
      for (const jobId of new Set(trims)) await this.store.write(this.store.sql.trimLogs(jobId, KEEP));
    } catch (error) {
      this.logger.warn(JOB_LOGS_NOT_WRITTEN(lines[0]?.jobId ?? '?', (error as Error).message));
    }
    for (const [jobId, seen] of this.sinceTrim) if (now - seen.at > FORGET_MS) this.sinceTrim.delete(jobId);
  }
}

function serialise(data: unknown): string | null {
  try {
    const text = JSON.stringify(data);
    if (text === undefined) return null;
    return text.length > MAX_DATA ? JSON.stringify({ truncated: true, preview: text.slice(0, 200) }) : text;
  } catch {
    return JSON.stringify({ unserialisable: true });
  }
}
