import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { INVALID_S3_OPTION } from '../managed-jobs.messages.js';
import { normalisePrefix, relativeKey } from './object-keys.js';
import { loadClientS3, loadLibStorage, loadPresigner, type ClientS3 } from './s3-sdk.js';
import type { S3StorageOptions } from './s3-storage.options.js';
import type { DownloadHeaders, StorageDriver } from './storage-driver.interface.js';

const MIB = 1024 * 1024;
/** S3's smallest multipart part and longest pre-signed URL lifetime (7 days). */
const MIN_PART_BYTES = 5 * MIB;
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

/**
 * Job files in an S3 bucket (or an S3-compatible store: MinIO, Ceph, R2, s3rver…), under one key
 * prefix, so workers on many hosts and the web process share them.
 *
 * - `putFile` streams: a stream goes up as a multipart upload (`@aws-sdk/lib-storage`), a string
 *   or bytes in one `PutObject`. Keys are `<prefix><jobId>/<fileId>/<safe name>`, fresh each time.
 * - Downloads stream through the app (one `GetObject`), or, with `presign`, the bundled controller
 *   redirects to a pre-signed URL valid for `presignExpiresInSeconds`.
 * - The expiry run and `pruneFinished()` delete objects (`DeleteObject`).
 * - Paths are confined to the prefix by the rules of `object-keys.ts`: the stored path is the key
 *   minus the prefix; `addFile` takes such a path, or the object's `s3://bucket/key` URI.
 *
 * The SDK packages are optional peers, loaded on first use or at the app's start.
 */
export class S3StorageDriver implements StorageDriver {
  readonly bucket: string;
  readonly prefix: string;
  private readonly presign: boolean;
  private readonly presignExpiresInSeconds: number;
  private readonly partSizeBytes: number;
  private sdk?: Promise<{ s3: ClientS3; client: S3Client }>;

  constructor(private readonly options: S3StorageOptions) {
    if (typeof options?.bucket !== 'string' || options.bucket.length === 0) {
      throw new ManagedJobsConfigurationError(INVALID_S3_OPTION('bucket', 'it must name a bucket'));
    }
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix ?? 'managed-jobs/');
    this.presign = options.presign ?? false;
    this.presignExpiresInSeconds = options.presignExpiresInSeconds ?? 60;
    this.partSizeBytes = options.partSizeBytes ?? 8 * MIB;
    const seconds = this.presignExpiresInSeconds;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
      throw new ManagedJobsConfigurationError(INVALID_S3_OPTION('presignExpiresInSeconds', `it must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS}`));
    }
    if (!Number.isInteger(this.partSizeBytes) || this.partSizeBytes < MIN_PART_BYTES) {
      throw new ManagedJobsConfigurationError(INVALID_S3_OPTION('partSizeBytes', `it must be at least ${MIN_PART_BYTES} bytes (5 MiB)`));
    }
  }

  /** Nest calls this when the driver is the module's storage: a missing SDK package fails the start, not a job. */
  async onModuleInit(): Promise<void> {
    await this.ready();
    await loadLibStorage();
    if (this.presign) await loadPresigner();
  }

  async resolve(path: string): Promise<string> {
    return relativeKey(path, this.bucket, this.prefix);
  }

  async write(path: string, data: string | Uint8Array | NodeJS.ReadableStream): Promise<number> {
    const Key = this.prefix + relativeKey(path, this.bucket, this.prefix);
    const { s3, client } = await this.ready();
    if (typeof data === 'string' || data instanceof Uint8Array) {
      const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      await client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.byteLength }));
      return body.byteLength;
    }
    const { Upload } = await loadLibStorage();
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const piped = pipeline(data as Readable, counter);
    const upload = new Upload({ client, params: { Bucket: this.bucket, Key, Body: counter }, partSize: this.partSizeBytes, leavePartsOnError: false });
    try {
      await Promise.all([upload.done(), piped]);
    } catch (error) {
      counter.destroy(error as Error); // a failed upload stops reading the source too
      await piped.catch(() => undefined);
      throw error;
    }
    return bytes;
  }

  async open(path: string): Promise<{ stream: Readable; size: number | null } | null> {
    const Key = this.prefix + relativeKey(path, this.bucket, this.prefix);
    const { s3, client } = await this.ready();
    try {
      const out = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key }));
      return { stream: out.Body as Readable, size: out.ContentLength ?? null };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  }

  async read(path: string): Promise<Readable | null> {
    return (await this.open(path))?.stream ?? null;
  }

  async size(path: string): Promise<number | null> {
    const Key = this.prefix + relativeKey(path, this.bucket, this.prefix);
    const { s3, client } = await this.ready();
    try {
      const out = await client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key }));
      return out.ContentLength ?? null;
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    const Key = this.prefix + relativeKey(path, this.bucket, this.prefix);
    const { s3, client } = await this.ready();
    await client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key }));
  }

  /** With `presign`: a pre-signed GET URL answering with `headers` (null when the object is missing). */
  async downloadUrl(path: string, headers: DownloadHeaders): Promise<string | null> {
    if (!this.presign) return null;
    // A missing object is the controller's 404, as when streaming, not a redirect to S3's XML error.
    if ((await this.size(path)) === null) return null;
    const Key = this.prefix + relativeKey(path, this.bucket, this.prefix);
    const [{ s3, client }, { getSignedUrl }] = await Promise.all([this.ready(), loadPresigner()]);
    const command = new s3.GetObjectCommand({
      Bucket: this.bucket,
      Key,
      ResponseContentType: headers.contentType,
      ResponseContentDisposition: headers.contentDisposition,
      ResponseCacheControl: 'private, no-store',
    });
    return getSignedUrl(client, command, { expiresIn: this.presignExpiresInSeconds });
  }

  private ready(): Promise<{ s3: ClientS3; client: S3Client }> {
    this.sdk ??= loadClientS3().then((s3) => {
      const { client, clientConfig, forcePathStyle } = this.options;
      return { s3, client: client ?? new s3.S3Client({ ...clientConfig, forcePathStyle: clientConfig?.forcePathStyle ?? forcePathStyle ?? false }) };
    });
    return this.sdk;
  }
}

/** `NoSuchKey` (GetObject) or a bare 404 (HeadObject has no body); a missing bucket stays an error. */
function isMissingObject(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
