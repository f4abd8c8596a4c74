// A real S3-protocol server for the S3 driver's tests: s3rver (a dev dependency) on loopback, on a
// free port, storing objects in a fresh temporary folder, with one bucket made at start.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export async function startS3Server({ bucket = 'nmj-files' } = {}) {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'nmj-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    directory,
    /** Options of an S3Client that reaches this server (s3rver accepts the S3RVER key pair). */
    clientConfig: { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
    async stop() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
