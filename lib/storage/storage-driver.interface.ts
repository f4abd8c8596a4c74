import type { Readable } from 'node:stream';

/** The headers a download answers with, for a driver that hands downloads off to a URL of its own. */
export interface DownloadHeaders {
  contentType: string;
  contentDisposition: string;
}

/**
 * Where job files live. Paths are always relative to the driver's root, made by the library
 * (`putFile`) or checked by it (`addFile`), and a driver must refuse any path that escapes its root.
 */
export interface StorageDriver {
  /** Write `data` at `path` and return the number of bytes written. */
  write(path: string, data: string | Uint8Array | NodeJS.ReadableStream): Promise<number>;
  /** A stream of the file, or null when it does not exist. */
  read(path: string): Promise<Readable | null>;
  /** Delete the file; a missing file is not an error. */
  delete(path: string): Promise<void>;
  /** Normalise a path given by a job into a root-relative one, or throw if it escapes the root. */
  resolve(path: string): Promise<string>;
  /** Size in bytes, or null when the file does not exist. */
  size(path: string): Promise<number | null>;
  /**
   * Optional: `read()` and `size()` in one call, for stores where each is a round trip (S3).
   * Null when the file does not exist.
   */
  open?(path: string): Promise<{ stream: Readable; size: number | null } | null>;
  /**
   * Optional: a short-lived URL the client may fetch the file from directly, answering with
   * `headers`; null to stream the file through the app instead (or when it does not exist). The
   * bundled controller redirects to it (302) after its owner check.
   */
  downloadUrl?(path: string, headers: DownloadHeaders): Promise<string | null>;
}
