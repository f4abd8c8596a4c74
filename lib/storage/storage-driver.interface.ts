import type { Readable } from 'node:stream';

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
}
