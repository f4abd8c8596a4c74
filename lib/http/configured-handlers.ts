import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/**
 * Instances of the guards/interceptors named in the options: instances as given, classes from
 * the app's container when they are providers there, else created with injection (as
 * `@UseGuards(Class)` would). Resolved once, on first use.
 */
export async function instantiate<T extends object>(moduleRef: ModuleRef, items: Array<Type<T> | T>): Promise<T[]> {
  return Promise.all(
    items.map(async (item) => {
      if (typeof item !== 'function') return item;
      try {
        return moduleRef.get(item as Type<T>, { strict: false });
      } catch {
        return moduleRef.create(item as Type<T>);
      }
    }),
  );
}
