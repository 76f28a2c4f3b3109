/**
 * `forget <email>`: erasure (docs/design.md, "Recipient data and
 * suppressions"). Afterwards the tool stores the address nowhere it can
 * reach:
 *
 * - every list by reference that holds it gets a new snapshot without it
 *   (its reference rewritten, ready for a pull request), and every older
 *   snapshot in the same folders that holds it is deleted;
 * - a list in git loses the row in the working tree (git history still has
 *   it: README, "Moving lists out of git");
 * - `.eml` files of the embedded outbox addressed to it are deleted;
 * - its fingerprint is suppressed for good ("erasure" entry), so a list
 *   imported again later does not mail the person.
 *
 * The ledger and the suppression store hold fingerprints only.
 */
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fingerprint, mask } from "../../address/mask.ts";
import { normaliseAddress } from "../../address/normalise.ts";
import { sha256Hex } from "../../check/list-source.ts";
import { UsageError } from "../../errors.ts";
import { keyId } from "../../ledger/ledger.ts";
import { withoutAddress } from "../../load/list-erase.ts";
import { parseListRef } from "../../load/list-ref.ts";
import { resolveSecret } from "../../keys/secret.ts";
import type { ObjectStore } from "../../store/port.ts";
import { objectStores } from "../../store/select.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { loadConfig, suppressionStore } from "../../wiring/deps.ts";
import { pinList } from "./pin.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

export async function runForgetCommand(input: Extract<CliInput, { command: "forget" }>, io: Io): Promise<number> {
  const address = normaliseAddress(input.address);
  if (!address) throw new UsageError("forget needs an email address");
  const config = loadConfig(input.root);
  const { secret } = resolveSecret(io.env, true);
  const objects = objectStores(input.root, io.env);
  const shown = mask(address);
  const lines: string[] = [];

  const { current, folders } = await eraseFromLists(input.root, objects, address, lines);
  const deleted = await sweepSnapshots(objects, folders, current, address);
  if (deleted.length > 0) lines.push(`deleted ${deleted.length} older snapshot${deleted.length === 1 ? "" : "s"} holding ${shown}: ${deleted.join(", ")}`);
  const eml = await eraseOutbox(path.join(input.root, "outbox"), address);
  if (eml > 0) lines.push(`deleted ${eml} outbox message${eml === 1 ? "" : "s"} addressed to ${shown}`);

  const store = suppressionStore(config, input.root, io);
  const fp = fingerprint(address, secret);
  const withAddress = (await store.read()).filter((e) => e.address !== undefined && normaliseAddress(e.address) === address).length;
  await store.append([{ v: 1, at: new Date().toISOString(), reason: "erasure", fp, key_id: keyId(secret), via: "forget" }]);
  lines.push(`suppressed for good: fingerprint ${fp.slice(0, 8)}… in ${store.location}`);
  if (withAddress > 0) {
    lines.push(`WARNING: ${withAddress} entr${withAddress === 1 ? "y" : "ies"} of the suppression store name ${shown} by address (written by hand); delete ${withAddress === 1 ? "that object" : "those objects"} yourself`);
  }
  io.out(`forget ${shown}:\n${lines.map((l) => `  ${l}\n`).join("")}`);
  return withAddress > 0 ? 1 : 0;
}

/** Each list in recipients/ without the address; the snapshots now current and the folders they are in. */
async function eraseFromLists(root: string, objects: ObjectStore, address: string, lines: string[]) {
  const current = new Set<string>();
  const folders = new Set<string>();
  const dir = path.join(root, "recipients");
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const file = path.join(dir, name);
    const rel = `recipients/${name}`;
    if (name.endsWith(".csv")) {
      const { text, removed } = withoutAddress(await readFile(file, "utf8"), address);
      if (removed === 0) continue;
      await writeFile(file, text);
      lines.push(`${rel}: removed ${removed} row${removed === 1 ? "" : "s"} in the working tree — commit it; the address is still in git history`);
    } else if (/\.ya?ml$/.test(name)) {
      const { ref } = parseListRef(await readFile(file, "utf8"), rel);
      if (!ref) {
        lines.push(`${rel}: not a valid reference, skipped — fix it and run forget again`);
        continue;
      }
      const folder = ref.source.slice(0, ref.source.lastIndexOf("/") + 1);
      folders.add(folder);
      const bytes = await objects.get(ref.source);
      const { text, removed } = withoutAddress(UTF8.decode(bytes), address);
      if (removed === 0 || sha256Hex(bytes) !== ref.sha256) {
        current.add(ref.source);
        if (sha256Hex(bytes) !== ref.sha256) lines.push(`${rel}: ${ref.source} does not match its pin, not rewritten — pin the list again`);
        continue;
      }
      const pinned = await pinList(objects, root, name.replace(/\.ya?ml$/, ""), new TextEncoder().encode(text), folder);
      current.add(pinned.ref.source);
      lines.push(`${rel}: removed ${removed} row${removed === 1 ? "" : "s"}; new snapshot ${pinned.ref.source} (${pinned.ref.rows} rows) — commit ${rel}`);
    }
  }
  return { current, folders };
}

/** Delete every snapshot in `folders` that holds the address and is not a current one. */
async function sweepSnapshots(objects: ObjectStore, folders: ReadonlySet<string>, current: ReadonlySet<string>, address: string): Promise<string[]> {
  const deleted: string[] = [];
  for (const folder of folders) {
    for (const loc of await objects.list(folder)) {
      if (current.has(loc) || !loc.endsWith(".csv")) continue;
      let text: string;
      try {
        text = UTF8.decode(await objects.get(loc));
      } catch {
        continue; // not a UTF-8 list: not one of ours
      }
      if (withoutAddress(text, address).removed === 0) continue;
      await objects.remove(loc);
      deleted.push(loc);
    }
  }
  return deleted;
}

/** The embedded outbox keeps whole messages: those to the address go. */
async function eraseOutbox(dir: string, address: string): Promise<number> {
  let n = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith(".eml")) continue;
    const file = path.join(e.parentPath, e.name);
    const text = (await readFile(file, "latin1")).toLowerCase();
    if (!mentions(text, address)) continue;
    await rm(file, { force: true });
    n++;
  }
  return n;
}

/** The address as a whole address in `text`, not as the tail of a longer one. */
function mentions(text: string, address: string): boolean {
  const quoted = address.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![a-z0-9._%+-])${quoted}(?![a-z0-9.-])`).test(text);
}
