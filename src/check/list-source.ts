/**
 * One recipient list as the checks read it: a CSV in `recipients/` (in git)
 * or a reference `recipients/<name>.yml` whose bytes are fetched from an
 * ObjectStore and verified against the pinned sha256 and row count before a
 * single row is used (docs/design.md, "Recipient data and suppressions").
 * The fetched bytes are held in memory only: never written anywhere.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { checkRecipientList, type ListReport } from "./list.ts";
import { extractAddresses } from "../detect/extract.ts";
import { FILE_START, finding, type Finding, type Position } from "../findings/finding.ts";
import { RefusedError, UnreadableInputError } from "../errors.ts";
import { parseListRef, type ListRef } from "../load/list-ref.ts";
import type { RepoPort } from "../load/repo.ts";
import { decodeTextFile } from "../load/text-file.ts";
import { locate, parseYaml } from "../load/yaml-doc.ts";
import { isS3Location, StoreError, type ObjectStore } from "../store/port.ts";

export interface ListSource {
  name: string;
  /** The repository file that names the list: recipients/<name>.csv or recipients/<name>.yml. */
  refFile: string;
  /** Where the bytes are read from: the CSV itself, or the reference's `source`. */
  location: string;
  /** True for a CSV in the repository, or a reference whose path stays inside it. */
  inGit: boolean;
  /**
   * The list's bytes, verified: a referenced list is fetched again and must
   * still match its pin (StoreError or a thrown "changed" refusal otherwise).
   */
  readBytes(): Promise<Uint8Array>;
}

export interface LoadedList {
  source: ListSource;
  report: ListReport;
}

/** A path source that stays inside the repository folder: the list is as good as in git. */
function insideRepository(location: string): boolean {
  if (isS3Location(location) || path.posix.isAbsolute(location)) return false;
  const n = path.posix.normalize(location);
  return n !== ".." && !n.startsWith("../");
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A CSV in git. */
export function csvSource(repo: RepoPort, name: string, file: string): ListSource {
  return { name, refFile: file, location: file, inGit: true, readBytes: () => repo.readBytes(file) };
}

/**
 * Read and check a `recipients/<name>.yml` reference. Findings go to
 * `findings`; null when the list cannot be used at all.
 */
export async function loadListRef(
  repo: RepoPort,
  store: ObjectStore | undefined,
  name: string,
  file: string,
  suppressions: ReadonlySet<string> | undefined,
  findings: Finding[],
): Promise<LoadedList | null> {
  let text: string;
  try {
    const decoded = decodeTextFile(file, await repo.readBytes(file));
    if ("finding" in decoded) {
      findings.push(decoded.finding);
      return null;
    }
    text = decoded.text;
  } catch (e) {
    if (e instanceof UnreadableInputError) {
      findings.push(finding("input-missing", file, FILE_START, e.message));
      return null;
    }
    throw e;
  }
  const parsed = parseListRef(text, file);
  findings.push(...parsed.findings);
  const ref = parsed.ref;
  if (!ref) return null;
  const at = (key: string): Position => ({ line: locate(parseYaml(text, file).source, `/${key}`).line, column: 1 });
  if (!isS3Location(ref.source) && /^\.\.\/\.\.(?:\/|$)/.test(path.posix.normalize(ref.source))) {
    // A reference is data from a pull request: it may name the repository and the folders beside it, no more.
    findings.push(finding("list-ref", file, at("source"), `${file}: a path source may reach the folders beside the repository (../lists/…), not further up`));
    return null;
  }
  if (!store) {
    findings.push(finding("list-ref", file, at("source"), `${file}: no object store is available to read ${ref.source}`));
    return null;
  }
  const fetchVerified = async (): Promise<Uint8Array> => {
    const bytes = await store.get(ref.source);
    const sha = sha256Hex(bytes);
    if (sha !== ref.sha256) throw new PinMismatch(ref);
    return bytes;
  };
  let bytes: Uint8Array;
  try {
    bytes = await fetchVerified();
  } catch (e) {
    if (e instanceof PinMismatch) {
      findings.push(finding("list-pin", file, at("sha256"), e.message));
      return null;
    }
    if (e instanceof StoreError) {
      findings.push(finding("input-missing", file, at("source"), `${file}: the list cannot be read: ${e.message}`));
      return null;
    }
    throw e;
  }
  const report = await checkRecipientList(bytesOnce(bytes), {
    file: ref.source,
    findAddresses: extractAddresses,
    ...(suppressions ? { suppressions } : {}),
  });
  if (report.rows !== ref.rows) {
    findings.push(finding("list-pin", file, at("rows"), `${file} pins ${ref.rows} rows, but ${ref.source} has ${report.rows}`));
  }
  const source: ListSource = { name, refFile: file, location: ref.source, inGit: insideRepository(ref.source), readBytes: fetchVerified };
  return { source, report };
}

/** Exit 1 (refused) when it reaches a command: the send re-fetches through `readBytes`. */
class PinMismatch extends RefusedError {
  // The hash of what was found is not shown: a reference in a pull request is data, and a path
  // source may name any file of the runner (docs/design.md, "Recipient data and suppressions").
  constructor(ref: ListRef) {
    super(`${ref.source} does not hold the bytes the reference pins (sha256 ${ref.sha256.slice(0, 16)}…): the stored list is not the one that was reviewed; nothing is sent`);
  }
}

/** Bytes in memory as the stream the list checks read. */
export async function* bytesOnce(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
