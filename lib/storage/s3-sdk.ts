import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { S3_PEER_MISSING } from '../managed-jobs.messages.js';
import { loadOptionalPeer } from '../optional-peers.js';

/**
 * The AWS SDK packages of the S3 driver, optional peers imported on first use: an app that stores
 * files on disk never loads (or installs) them. A missing one is a `ManagedJobsConfigurationError`
 * naming the package, thrown at the app's start (the driver's `onModuleInit`) or at first use.
 */
export type ClientS3 = typeof import('@aws-sdk/client-s3');
export type LibStorage = typeof import('@aws-sdk/lib-storage');
export type Presigner = typeof import('@aws-sdk/s3-request-presigner');

async function required<T>(name: string, what: string, load: () => Promise<T>): Promise<T> {
  const peer = await loadOptionalPeer(name, load);
  if (!peer) throw new ManagedJobsConfigurationError(S3_PEER_MISSING(name, what));
  return peer;
}

export const loadClientS3 = () => required('@aws-sdk/client-s3', 'to talk to S3', () => import('@aws-sdk/client-s3'));
export const loadLibStorage = () => required('@aws-sdk/lib-storage', 'to upload streams (putFile with a stream)', () => import('@aws-sdk/lib-storage'));
export const loadPresigner = () => required('@aws-sdk/s3-request-presigner', 'for pre-signed downloads (presign: true)', () => import('@aws-sdk/s3-request-presigner'));
