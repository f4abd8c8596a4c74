import { createReadStream } from 'node:fs';
import { mkdir, realpath, rm, stat, writeFile, open } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageDriver } from './storage-driver.interface.js';
import { UnsafeFilePathError } from './unsafe-file-path.error.js';

export { UnsafeFilePathError };

/**
 * Files on the local disk under one root folder. Every path is resolved against the root and
 * refused if it leaves it, lexically (`../`, absolute paths) or through a symlink (the real path
 * of the deepest existing ancestor must still be inside the real root).
 */
export class LocalStorageDriver implements StorageDriver {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async resolve(path: string): Promise<string> {
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw new UnsafeFilePathError(String(path));
    const absolute = isAbsolute(path) ? resolve(path) : resolve(this.root, path);
    const rel = relative(this.root, absolute);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw new UnsafeFilePathError(path);
    await this.assertRealPathInside(absolute, path);
    return rel.split(sep).join('/');
  }

  private async assertRealPathInside(absolute: string, original: string): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const realRoot = await realpath(this.root);
    let probe = absolute;
    for (;;) {
      try {
        const real = await realpath(probe);
        const rel = relative(realRoot, real);
        if (rel.startsWith('..') || isAbsolute(rel)) throw new UnsafeFilePathError(original);
        return;
      } catch (error: any) {
        if (error instanceof UnsafeFilePathError) throw error;
        if (error?.code !== 'ENOENT') throw error;
        const parent = dirname(probe);
        if (parent === probe) throw new UnsafeFilePathError(original);
        probe = parent;
      }
    }
  }

  private absolute(rel: string): string {
    return join(this.root, rel);
  }

  async write(path: string, data: string | Uint8Array | NodeJS.ReadableStream): Promise<number> {
    const rel = await this.resolve(path);
    const target = this.absolute(rel);
    await mkdir(dirname(target), { recursive: true });
    if (typeof data === 'string' || data instanceof Uint8Array) {
      // 'wx': never follow or overwrite an existing entry (a planted symlink included).
      await writeFile(target, data, { flag: 'wx' });
    } else {
      const handle = await open(target, 'wx');
      try {
        await pipeline(data as Readable, handle.createWriteStream());
      } finally {
        await handle.close().catch(() => undefined);
      }
    }
    return (await stat(target)).size;
  }

  async read(path: string): Promise<Readable | null> {
    const rel = await this.resolve(path);
    try {
      const target = this.absolute(rel);
      if (!(await stat(target)).isFile()) return null;
      return createReadStream(target);
    } catch (error: any) {
      if (error?.code === 'ENOENT') return null;
      throw error;
    }
  }

  async size(path: string): Promise<number | null> {
    const rel = await this.resolve(path);
    try {
      return (await stat(this.absolute(rel))).size;
    } catch (error: any) {
      if (error?.code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    const rel = await this.resolve(path);
    await rm(this.absolute(rel), { force: true });
  }
}
