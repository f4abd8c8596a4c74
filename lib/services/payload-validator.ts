import type { Type } from '@nestjs/common';
import { instanceToPlain, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate, type ValidationError } from 'class-validator';
import { InvalidJobPayloadError, type PayloadViolation } from '../errors/managed-jobs.errors.js';
import { jsonViolations } from './json-safety.js';

/**
 * Validates a payload against the job's payload class (whitelist: unknown properties are
 * violations) and returns the JSON to store. Jobs without a payload class accept any JSON value.
 * Either way the value must be storable on every database (`jsonViolations`): NUL characters,
 * lone surrogates and absurd nesting are refused before anything is written.
 */
export async function validatePayload(jobName: string, payloadClass: Type<object> | undefined, payload: unknown): Promise<string> {
  const unsafe = jsonViolations(payload);
  if (unsafe.length) throw new InvalidJobPayloadError(jobName, unsafe);
  if (!payloadClass) {
    const json = JSON.stringify(payload ?? null);
    if (json === undefined) throw new InvalidJobPayloadError(jobName, [{ property: '', constraints: { json: 'payload must be JSON-serialisable' } }]);
    return json;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new InvalidJobPayloadError(jobName, [{ property: '', constraints: { isObject: 'payload must be an object' } }]);
  }
  const plain = payload instanceof payloadClass ? instanceToPlain(payload) : payload;
  const instance = plainToInstance(payloadClass, plain) as object;
  // `forbidUnknownValues` refuses an instance of a class without validation metadata, so a payload
  // class with no decorated field (`class Empty {}`) refused every payload, `{}` included. Such a
  // class is validated like any other: the whitelist still refuses every property it does not declare.
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: hasConstraints(payloadClass) });
  if (errors.length) throw new InvalidJobPayloadError(jobName, flatten(errors));
  return JSON.stringify(instanceToPlain(instance));
}

function hasConstraints(payloadClass: Type<object>): boolean {
  return getMetadataStorage().getTargetValidationMetadatas(payloadClass, '', true, false).length > 0;
}

/** Rebuilds the payload instance a job receives from the stored JSON. */
export function hydratePayload(payloadClass: Type<object> | undefined, stored: unknown): unknown {
  return payloadClass && stored && typeof stored === 'object' ? plainToInstance(payloadClass, stored) : stored;
}

function flatten(errors: ValidationError[], prefix = ''): PayloadViolation[] {
  return errors.flatMap((e) => {
    const property = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ property, constraints: { ...e.constraints } }] : [];
    return [...own, ...flatten(e.children ?? [], property)];
  });
}
