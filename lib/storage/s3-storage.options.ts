import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/** Options of `new S3StorageDriver(options)`. */
export interface S3StorageOptions {
  /** The bucket job files go to. It must exist: the driver never creates or configures buckets. */
  bucket: string;
  /**
   * Every object the driver reads, writes or deletes has a key starting with this prefix, and a
   * path that would leave it is refused (`UnsafeFilePathError`). A trailing `/` is added when
   * missing; `''` gives the driver the whole bucket.
   * @default 'managed-jobs/'
   */
  prefix?: string;
  /**
   * An `S3Client` you built (credentials, region, endpoint, retries…). The driver never destroys it.
   * @default a client made from `clientConfig`
   */
  client?: S3Client;
  /**
   * Options of the `S3Client` the driver makes when `client` is not given. Region and credentials
   * come from the usual AWS environment variables and files when not set here.
   * @default {}
   */
  clientConfig?: S3ClientConfig;
  /**
   * Path-style URLs (`https://host/bucket/key`), which most S3-compatible stores need (MinIO,
   * Ceph, s3rver). Applies to the client the driver makes.
   * @default false
   */
  forcePathStyle?: boolean;
  /**
   * Answer downloads with a redirect (302) to a short-lived pre-signed GET URL, so the bytes go
   * from the bucket to the browser without passing through the app. The owner check still runs
   * first, and the URL carries the same `Content-Type`, `Content-Disposition: attachment` and
   * `Cache-Control: private, no-store` the streamed download has. Needs
   * `@aws-sdk/s3-request-presigner`.
   * @default false
   */
  presign?: boolean;
  /**
   * How long a pre-signed URL stays valid, in seconds (1 to 604800).
   * @default 60
   */
  presignExpiresInSeconds?: number;
  /**
   * Part size of the multipart upload a streamed `putFile` uses, in bytes (at least 5 MiB; S3
   * allows 10,000 parts, so this caps a streamed file at 10,000 × partSizeBytes).
   * @default 8388608 (8 MiB)
   */
  partSizeBytes?: number;
}
