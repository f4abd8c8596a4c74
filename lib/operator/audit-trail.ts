import { Injectable } from '@nestjs/common';
import { newJobId } from '../ids/job-id.js';
import type { Page } from '../interfaces/dispatch-options.interface.js';
import { toDate } from '../store/row-mapper.js';
import { OperatorStore } from './operator.store.js';
import type { Audit, AuditEntry } from './operator.types.js';

/** At most this many characters of a target or a reason are kept. */
const MAX_TARGET = 1024;
const MAX_ACTOR = 255;

/** The audit trail: every operator action, with its actor, reason and how many it changed. */
@Injectable()
export class AuditTrail {
  constructor(private readonly store: OperatorStore) {}

  async record(action: string, target: string, count: number, audit: Audit = {}): Promise<void> {
    await this.store.write(
      this.store.sql.insertAudit({
        auditId: newJobId(),
        actor: audit.actor ? String(audit.actor).slice(0, MAX_ACTOR) : null,
        action,
        target: target.slice(0, MAX_TARGET),
        reason: audit.reason ? String(audit.reason) : null,
        count,
      }),
    );
  }

  async list(page: number, limit: number): Promise<Page<AuditEntry>> {
    const [rows, total] = await Promise.all([
      this.store.rows(this.store.sql.listAudit(limit, (page - 1) * limit)),
      this.store.one<{ total: unknown }>(this.store.sql.countAudit()),
    ]);
    return {
      data: rows.map((r) => ({
        at: toDate(r.at)!,
        actor: r.actor ?? null,
        action: r.action,
        target: r.target,
        reason: r.reason ?? null,
        count: Number(r.count),
      })),
      meta: { page, limit, total: Number(total?.total ?? 0) },
    };
  }
}
