import { hostname, userInfo } from 'node:os';
import type { Audit } from '../operator/operator.types.js';

/** Where a command writes: aligned tables for people, `--json` for scripts. Errors go to stderr. */
export class CliOutput {
  constructor(
    private readonly stdout: (text: string) => void,
    private readonly stderr: (text: string) => void,
    readonly json: boolean,
  ) {}

  line(text = ''): void {
    this.stdout(`${text}\n`);
  }

  error(text: string): void {
    this.stderr(`${text}\n`);
  }

  data(value: unknown): void {
    this.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Columns padded to their widest cell; `empty` when there are no rows. */
  table(headers: string[], rows: unknown[][], empty = '(none)'): void {
    if (!rows.length) return this.line(empty);
    const cells = [headers, ...rows.map((r) => r.map(cell))];
    const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
    const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
    for (const row of cells) {
      this.line(row.map((c, i) => (i === row.length - 1 && !numeric[i] ? c : numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
    }
  }

  /** `key: value` lines, keys aligned. */
  fields(pairs: Array<[string, unknown]>): void {
    const width = Math.max(...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.line(`${`${k}:`.padEnd(width + 1)} ${cell(v)}`);
  }
}

export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Milliseconds as `850ms`, `12s`, `5m 3s`, `2h 10m`. */
export function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Who acted, for the audit trail: `cli:user@host`. */
export function cliAudit(reason: unknown): Audit {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return { actor: `cli:${user}@${hostname()}`, reason: typeof reason === 'string' ? reason : undefined };
}
