/**
 * ObjectStore on a filesystem path (the embedded default: a list kept beside
 * the repository). Relative locations are resolved from `base` (the
 * repository root). New objects are written to a temporary name, synced and
 * renamed, so a reader never sees half an object.
 */
import { mkdir, open, readFile, readdir, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { StoreError, type ObjectStore } from "./port.ts";

export class FsObjectStore implements ObjectStore {
  constructor(private readonly base: string) {}

  private abs(location: string): string {
    return path.resolve(this.base, location);
  }

  async get(location: string): Promise<Uint8Array> {
    try {
      return await readFile(this.abs(location));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new StoreError("missing", location, `${location}: not found`, { cause: e });
      throw new StoreError("access", location, `${location}: cannot be read (${code ?? "error"})`, { cause: e });
    }
  }

  async put(location: string, bytes: Uint8Array): Promise<void> {
    const file = this.abs(location);
    const tmp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (e) {
      throw new StoreError("access", location, `${location}: cannot be written (${(e as NodeJS.ErrnoException).code ?? "error"})`, { cause: e });
    }
  }

  async list(prefix: string): Promise<string[]> {
    // A prefix names a folder (`suppressions/`) or a folder and the start of a name.
    const dirPart = prefix.endsWith("/") ? prefix : path.posix.dirname(prefix) + "/";
    const start = prefix.slice(dirPart.length);
    let names: string[];
    try {
      names = (await readdir(this.abs(dirPart), { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new StoreError("access", prefix, `${prefix}: cannot be listed`, { cause: e });
    }
    return names
      .filter((n) => n.startsWith(start) && !n.includes(".tmp-"))
      .sort()
      .map((n) => `${dirPart}${n}`);
  }

  async remove(location: string): Promise<void> {
    try {
      await rm(this.abs(location), { force: true });
    } catch (e) {
      throw new StoreError("access", location, `${location}: cannot be deleted`, { cause: e });
    }
  }
}
