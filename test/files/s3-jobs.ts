import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { ManagedJob, type JobContext, type ManagedJobHandler } from '../../lib/index.js';

export interface StreamFilePayload {
  name: string;
  /** Bytes to stream, in chunks of 64 KiB of the letter `fill`. */
  bytes: number;
  fill: string;
  mimeType?: string;
}

/** Writes one file with `ctx.putFile` from a stream (a multipart upload when large enough). */
@Injectable()
@ManagedJob({ name: 's3-stream-file' })
export class StreamFileJob implements ManagedJobHandler<StreamFilePayload> {
  async handle(ctx: JobContext<StreamFilePayload>) {
    const { name, bytes, fill, mimeType } = ctx.payload;
    const chunk = Buffer.alloc(64 * 1024, fill);
    const stream = Readable.from(
      (function* () {
        for (let left = bytes; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
      })(),
    );
    const file = await ctx.putFile(name, stream, { mimeType: mimeType ?? 'application/octet-stream' });
    return { fileId: file.jobFileId, path: file.path, sizeBytes: file.sizeBytes };
  }
}
