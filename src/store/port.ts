/**
 * Where recipient-list snapshots and suppression entries live outside git
 * (docs/design.md, "Recipient data and suppressions"): a path on disk or an
 * S3-compatible object store. A location is either `s3://bucket/key` or a
 * path (relative paths are taken from the repository root).
 *
 * Nothing here overwrites: snapshots are named by their hash and suppression
 * entries by time and a random suffix, so the store only grows. The one
 * exception is erasure (`forget`), which deletes the old snapshots that hold
 * the erased address after writing a new one without it.
 */
import { UnreadableInputError } from "../errors.ts";

export interface ObjectStore {
  /**
   * The object's bytes. Throws StoreError with kind "missing" when nothing is
   * at `location`, "credentials" or "access" when it cannot be reached or read.
   */
  get(location: string): Promise<Uint8Array>;
  /**
   * Writes a new object at `location`. Callers name locations that are never
   * reused (a hash or a random suffix in the name). Throws StoreError.
   */
  put(location: string, bytes: Uint8Array): Promise<void>;
  /**
   * Locations of every object whose location starts with `prefix`, sorted.
   * An empty array when there are none (or the folder does not exist).
   */
  list(prefix: string): Promise<string[]>;
  /**
   * Deletes the object at `location` (no error when it is already gone).
   * Erasure (`forget`) is the only caller: it removes old snapshots that hold
   * an erased address. Throws StoreError.
   */
  remove(location: string): Promise<void>;
}

export type StoreErrorKind = "missing" | "credentials" | "access";

/** A store could not give or take an object. Exit 2 (an input that cannot be read); never holds the bytes. */
export class StoreError extends UnreadableInputError {
  constructor(
    readonly kind: StoreErrorKind,
    readonly location: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(location, message, 1, 1, options);
  }
}

export function isS3Location(location: string): boolean {
  return location.startsWith("s3://");
}

/** `s3://bucket/key` → parts; null when it is not one. */
export function parseS3Location(location: string): { bucket: string; key: string } | null {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(location);
  return m ? { bucket: m[1]!, key: m[2]! } : null;
}

/** `prefix` joined with `name`: one `/` between them. */
export function joinLocation(prefix: string, name: string): string {
  return prefix.endsWith("/") ? `${prefix}${name}` : `${prefix}/${name}`;
}
