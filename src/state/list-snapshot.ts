/**
 * A begun send's list snapshot (docs/design.md, "Sent at most once"): the
 * list bytes its send began with, found again in the repository's git
 * objects by the blob id its begin record holds, and proven by the sha256 of
 * their canonical bytes. Sign-ups added since are not part of that send;
 * unsubscribes are (the newer suppressions apply to it).
 *
 * Only the blob is read (`git cat-file blob`), so the snapshot is found in
 * any commit of the history — the checkout must hold it (actions/checkout
 * with `fetch-depth: 0`).
 */
import { createHash } from "node:crypto";
import { RefusedError } from "../errors.ts";
import type { BegunInputs } from "../ledger/history.ts";
import { canonicalSha256 } from "../digest/digest.ts";
import { runGit } from "./git-run.ts";

/** `git hash-object` of these bytes (SHA-1 object id of a blob, the git object format). */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/**
 * The list bytes the send began with: the current bytes when they are the
 * same, else the snapshot from git. Refuses (exit 1) when it cannot be found
 * or is not the list that was recorded: no send resumes on a list nobody approved.
 */
export async function listSnapshot(root: string, file: string, current: Uint8Array, begun: BegunInputs): Promise<{ bytes: Uint8Array; fromHistory: boolean }> {
  if (canonicalSha256(current) === begun.list) return { bytes: current, fromHistory: false };
  const refuse = (why: string) =>
    new RefusedError(
      `refused: ${file} changed since this send began, and ${why}; nothing was sent. A begun send resumes only with the list it began with (its snapshot, git blob ${begun.list_blob.slice(0, 12)}…): fetch the whole history (actions/checkout with fetch-depth: 0)`,
    );
  if (!/^[0-9a-f]{40}$/.test(begun.list_blob)) throw refuse("its begin record names no snapshot");
  let bytes: Buffer;
  try {
    const r = await runGit(["cat-file", "blob", begun.list_blob], { cwd: root, timeoutMs: 60_000 });
    bytes = Buffer.from(r.stdout, "utf8");
  } catch {
    throw refuse("its snapshot is not in this checkout's git history");
  }
  if (canonicalSha256(bytes) !== begun.list) throw refuse("the snapshot found is not the list that was recorded");
  return { bytes, fromHistory: true };
}
