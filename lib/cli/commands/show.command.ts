import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { toJobDetails } from '../../operator/operator-responses.js';
import { needPositionals, type CliCommand } from '../cli-command.js';

export const showCommand: CliCommand = {
  name: 'show',
  usage: 'show <jobId> [--json]',
  summary: 'One job: record, attempts (with errors), steps, files and log lines.',
  read: true,
  check: (_, p) => needPositionals(p, 1, 'the job id', 1),
  async run({ app, positionals, out }) {
    const details = await app.get(ManagedJobsOperatorService).findJob(positionals[0]);
    if (!details) {
      out.error(`Job ${positionals[0]} was not found.`);
      return 1;
    }
    if (out.json) return out.data(toJobDetails(details)), 0;
    const j = details.job;
    out.fields([
      ['Job', j.jobId],
      ['Type', j.type],
      ['Queue', j.queue],
      ['Status', j.status],
      ['Progress', `${j.progressPercentage}%${j.progressMessage ? ` ${j.progressMessage}` : ''}`],
      ['Tries', `${j.attempts}/${j.maxAttempts}`],
      ['Owner', j.ownerUserId === null ? null : `${j.ownerUserId}${j.ownerTenantId ? ` (tenant ${j.ownerTenantId})` : ''}`],
      ['Created', j.createdAt],
      ['Started', j.startedAt],
      ['Finished', j.finishedAt],
      ['Failed reason', j.failedReason],
      ['Payload', j.payload],
      ['Result', j.result],
    ]);
    out.line('\nAttempts');
    out.table(['#', 'OUTCOME', 'WORKER', 'STARTED', 'FINISHED', 'ERROR'], details.attempts.map((a) => [a.attempt, a.outcome, a.workerId, a.startedAt, a.finishedAt, a.error?.split('\n')[0] ?? null]));
    out.line('\nSteps');
    out.table(['NAME', 'COMPLETED', 'RESULT'], details.steps.map((s) => [s.name, s.completedAt, s.result]));
    out.line('\nFiles');
    out.table(['FILE ID', 'NAME', 'TYPE', 'BYTES', 'EXPIRES'], details.files.map((f) => [f.jobFileId, f.filename, f.mimeType, f.sizeBytes, f.expiresAt]));
    out.line('\nLog');
    out.table(['AT', 'LEVEL', 'MESSAGE'], details.logs.map((l) => [l.at, l.level, l.data ? `${l.message} ${JSON.stringify(l.data)}` : l.message]));
    return 0;
  },
};
