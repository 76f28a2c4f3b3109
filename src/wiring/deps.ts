/**
 * The composition module (docs/design.md, "Layers"): the adapters every
 * newsletter command and Actions step reads through, built once from the
 * root and environment: the repository on disk, the send history in the
 * state folder, and the repository's visibility as the Actions runner
 * reports it (GITHUB_EVENT_PATH's `repository.private`/`visibility`).
 * `cli/commands/*` and `actions/steps/*` both take their wiring from here and
 * never import each other.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { UnreadableInputError } from "../errors.ts";
import { CONFIG_FILE, parseConfig } from "../load/config.ts";
import path from "node:path";
import type { CheckDeps, Visibility } from "../check/check-newsletters.ts";
import { FsHistory } from "../ledger/fs-history.ts";
import { FsRepo } from "../load/fs-repo.ts";
import { objectStores } from "../store/select.ts";
import type { ResolvedConfig } from "../load/schema/config.ts";
import { ObjectSuppressionStore } from "../suppress/store.ts";
import type { Io } from "../runtime/io.ts";
import { fingerprint } from "../address/mask.ts";
import { keyId } from "../ledger/ledger.ts";
import { DEVELOPMENT_SECRET } from "../keys/secret.ts";
import type { SuppressionKey } from "../suppress/apply.ts";

export function stateDir(root: string, io: Io): string {
  return path.resolve(root, io.env.NEWSLETTER_STATE_DIR ?? ".newsletter-state");
}

/** `visibility`: as the caller already read it (an Actions step, from its event); by default from GITHUB_EVENT_PATH. */
export function commandDeps(root: string, io: Io, visibility: Visibility | null = repositoryVisibility(io.env)): CheckDeps {
  return {
    repo: new FsRepo(root),
    history: new FsHistory(stateDir(root, io)),
    visibility,
    store: objectStores(root, io.env),
    suppressions: { open: (config) => suppressionStore(config, root, io), key: suppressionKey(io.env.NEWSLETTER_SECRET) },
  };
}

/**
 * The key the store's fingerprint entries are matched with: NEWSLETTER_SECRET, else the development
 * key a local send uses (send.ts resolves the same). A job without the production key (the approval
 * environment's) matches none of them and says so (docs/design.md, "Recipient data and suppressions").
 */
export function suppressionKey(secret: string | undefined): SuppressionKey {
  const s = secret || DEVELOPMENT_SECRET;
  return { id: keyId(s), fingerprintOf: (a) => fingerprint(a, s) };
}

/**
 * Locally there is no event: visibility is unknown (null) and not checked.
 * An unreadable event file is also unknown — the workflow's own check job
 * runs with a readable one.
 */
export function repositoryVisibility(env: Io["env"]): Visibility | null {
  const file = env.GITHUB_EVENT_PATH;
  if (!file) return null;
  try {
    return visibilityOf(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return null;
  }
}

/** The repository's visibility as a webhook payload states it (`repository.visibility`, else `repository.private`); null when it does not. */
export function visibilityOf(event: unknown): Visibility | null {
  const repo = (event as { repository?: { private?: unknown; visibility?: unknown } } | null)?.repository;
  if (!repo) return null;
  if (repo.visibility === "public" || repo.visibility === "private" || repo.visibility === "internal") return repo.visibility;
  if (typeof repo.private === "boolean") return repo.private ? "private" : "public";
  return null;
}

/**
 * The suppression store this repository's config names
 * (`recipient_data.suppression_store`), or by default `suppressions/` in the
 * state folder: fine on one machine, lost with an ephemeral runner — a
 * production setup names an s3:// prefix (README).
 */
export function suppressionStore(config: ResolvedConfig, root: string, io: Io): ObjectSuppressionStore {
  const location = config.recipient_data.suppression_store ?? `${path.join(stateDir(root, io), "suppressions")}/`;
  return new ObjectSuppressionStore(objectStores(root, io.env), location);
}

/** The configuration alone, for commands that read no newsletter (unsubscribe-server, import-bounces, forget). */
export function loadConfig(root: string): ResolvedConfig {
  let text: string;
  try {
    text = readFileSync(path.join(root, CONFIG_FILE), "utf8");
  } catch (e) {
    throw new UnreadableInputError(CONFIG_FILE, `${CONFIG_FILE} cannot be read under ${root}`, 1, 1, { cause: e });
  }
  const { config, findings } = parseConfig(text, CONFIG_FILE);
  if (!config) {
    const first = findings.find((f) => f.severity === "error");
    throw new UnreadableInputError(CONFIG_FILE, `${CONFIG_FILE} is invalid${first ? ` (line ${first.line}: ${first.message})` : ""}; run \`check\``);
  }
  return config;
}

/** A file named on the command line (a list to pin, a report to import): its bytes, or exit 2. */
export async function readInputFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new UnreadableInputError(file, `${file}: cannot be read`, 1, 1, { cause: e });
  }
}
