/**
 * The one place that picks a store for a location: `s3://` → S3, anything
 * else → a path from the repository root. Each backend is built once.
 */
import { FsObjectStore } from "./fs-store.ts";
import { isS3Location, type ObjectStore } from "./port.ts";
import { S3ObjectStore, type Env } from "./s3-store.ts";

export function objectStores(root: string, env: Env): ObjectStore {
  const fs = new FsObjectStore(root);
  let s3: S3ObjectStore | null = null;
  const pick = (location: string): ObjectStore => (isS3Location(location) ? (s3 ??= new S3ObjectStore(env)) : fs);
  return {
    get: (l) => pick(l).get(l),
    put: (l, b) => pick(l).put(l, b),
    list: (p) => pick(p).list(p),
    remove: (l) => pick(l).remove(l),
  };
}
