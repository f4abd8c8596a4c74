import { Body, Controller, Headers, HttpCode, Post, Req, UnsupportedMediaTypeException } from '@nestjs/common';
import { JobRunnerService } from '../../lib/index.js';
import { ImportFileJob } from './jobs/import-file.job.js';
import type { DemoUser } from './user.js';

/**
 * `POST /demo/imports` (JSON): queues "Import 20 files" as ONE batch for the signed-in user. The
 * page follows it with a single bar from the `batch.progress` / `batch.finished` socket events
 * (its members' own `job.*` events also arrive; the page leaves them out of its list).
 */
@Controller('demo/imports')
export class ImportFilesController {
  constructor(private readonly jobRunner: JobRunnerService) {}

  @Post()
  @HttpCode(201)
  async importFiles(@Req() req: { user: DemoUser }, @Headers('content-type') contentType: string | undefined, @Body() body: { files?: unknown }) {
    // JSON only, like the bundled API: a cross-site form (which could carry the demo cookie) cannot send it.
    if (!/^application\/json\b/i.test(contentType ?? '')) throw new UnsupportedMediaTypeException('The request must be JSON (Content-Type: application/json).');
    const count = Math.min(100, Math.max(1, Math.trunc(Number(body?.files)) || 20));
    const batch = await this.jobRunner.batch(
      Array.from({ length: count }, (_, i) => ({ job: ImportFileJob, payload: { filename: `invoices-${String(i + 1).padStart(2, '0')}.csv` } })),
      { owner: req.user, name: `Import ${count} files`, failurePolicy: 'continue' },
    );
    const { batchId, name, status, progress, total, completed, failed } = batch;
    return { batchId, name, status, progress, total, completed, failed };
  }
}
