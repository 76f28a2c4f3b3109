/**
 * Rules about what the pull request changes (docs/design.md, "The approval gate"):
 * it must not change CODEOWNERS, `.github/` or the gate configuration (the
 * gate reads those from the base branch, so a PR changing them would be judged
 * by rules it wrote itself), and the merged tree must equal the reviewed head
 * for newsletters/, recipients/ and .github/ ("What was approved is what is sent"). Also: who
 * the code owners of the changed files are, per CODEOWNERS at the base. Pure.
 */
import { CONFIG_FILE } from "../load/config.ts";
import { matchingRule, type PickedCodeowners } from "../codeowners/codeowners.ts";
import { shortSha } from "./identity.ts";
import { classifyPath, mustMatchReviewedHead } from "./paths.ts";
import type { PrFile } from "./port.ts";
import type { Problem, Warning } from "./result.ts";

function list(paths: readonly string[], max = 5): string {
  const shown = paths.slice(0, max).join(", ");
  return paths.length > max ? `${shown} and ${paths.length - max} more` : shown;
}

/** Every path a file entry touches: its name and, for a rename, its previous name. */
export function touchedPaths(files: readonly PrFile[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    out.add(f.filename);
    if (f.previousFilename !== undefined) out.add(f.previousFilename);
  }
  return [...out].sort();
}

export function protectedPathProblems(prNumber: number, paths: readonly string[]): Problem[] {
  const by = { codeowners: [] as string[], "gate-config": [] as string[], "github-dir": [] as string[] };
  for (const p of paths) {
    const cls = classifyPath(p);
    if (cls === "codeowners" || cls === "gate-config" || cls === "github-dir") by[cls].push(p);
  }
  const out: Problem[] = [];
  if (by.codeowners.length > 0) {
    out.push({
      code: "codeowners-changed",
      text: `pull request #${prNumber} changes ${list(by.codeowners)}: code owners are read from the base branch, so change them in a pull request of their own`,
    });
  }
  if (by["gate-config"].length > 0) {
    out.push({
      code: "gate-config-changed",
      text: `pull request #${prNumber} changes ${CONFIG_FILE}, the gate's configuration (read from the base branch): change it in a pull request of its own`,
    });
  }
  if (by["github-dir"].length > 0) {
    out.push({
      code: "github-dir-changed",
      text: `pull request #${prNumber} changes ${list(by["github-dir"])} under .github/ (workflows and settings that run the gate and the send): change them in a pull request of their own`,
    });
  }
  return out;
}

const NEWSLETTER_FOLDER = /^newsletters\/([^/]+)\/./;

/**
 * A newsletter pull request is content only (docs/design.md, "Trust
 * boundary"): it adds or changes exactly one `newsletters/<id>/` and/or
 * `recipients/`, nothing else. The send runs the tool as it stands on the
 * default branch, but a pull request that also changed `src/`, `bin/`, the
 * package files or a workflow would put that change on the default branch
 * with the send's approvals: tool changes are reviewed in pull requests of
 * their own. `what` names the change checked (the pull request's files, or
 * the merge commit against its first parent).
 */
export function contentOnlyProblem(what: string, paths: readonly string[]): Problem | undefined {
  const folders = new Set<string>();
  const outside: string[] = [];
  for (const p of paths) {
    const cls = classifyPath(p);
    // CODEOWNERS, the gate configuration and .github/ have reason codes of their own.
    if (cls === "codeowners" || cls === "gate-config" || cls === "github-dir") continue;
    const folder = NEWSLETTER_FOLDER.exec(p);
    if (folder) folders.add(folder[1]!);
    else if (!p.startsWith("recipients/")) outside.push(p);
  }
  if (outside.length === 0 && folders.size <= 1) return undefined;
  const why =
    outside.length > 0
      ? `changes ${list(outside)} outside newsletters/<id>/ and recipients/`
      : `changes ${folders.size} newsletter folders (${list([...folders].sort())}); one newsletter per pull request`;
  return {
    code: "not-content-only",
    text: `${what} ${why}: a newsletter pull request changes only its newsletter folder and recipient lists, and tool changes go through a pull request of their own`,
  };
}

/** The merged commit's tree against the reviewed head's, for the paths that are sent or that run the send. */
export function treeProblem(headSha: string, mergeSha: string, changed: readonly string[]): Problem | undefined {
  const differing = changed.filter(mustMatchReviewedHead);
  if (differing.length === 0) return undefined;
  return {
    code: "tree-differs",
    text:
      `the merged commit ${shortSha(mergeSha)} differs from the reviewed head ${shortSha(headSha)} in ${list(differing)}: ` +
      `what would be sent is not what was approved (update the branch and approve its new head)`,
  };
}

export interface CodeOwnersOfChange {
  /** Owner tokens of the changed paths, each with the paths it owns. */
  readonly owners: ReadonlyMap<string, readonly string[]>;
  readonly problems: readonly Problem[];
  readonly warnings: readonly Warning[];
}

/**
 * The code owners of the changed paths per the base branch's CODEOWNERS
 * (GitHub: "the last matching pattern takes the most precedence").
 */
export function codeOwnersOfChange(picked: PickedCodeowners | undefined, paths: readonly string[]): CodeOwnersOfChange {
  const owners = new Map<string, string[]>();
  const problems: Problem[] = [];
  const warnings: Warning[] = [];
  if (picked === undefined) {
    warnings.push({
      code: "no-codeowners",
      text: "the base branch has no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS): no code owner review protects newsletters/ and recipients/",
    });
    return { owners, problems, warnings };
  }
  if (picked.errors.length > 0) {
    problems.push({
      code: "codeowners-invalid",
      text: `${picked.path} on the base branch has lines GitHub skips, so who owns what is uncertain: ${picked.errors
        .slice(0, 3)
        .map((e) => e.message)
        .join("; ")}${picked.errors.length > 3 ? ` (and ${picked.errors.length - 3} more)` : ""}`,
    });
  }
  const unowned: string[] = [];
  const emails = new Set<string>();
  for (const path of paths) {
    const rule = matchingRule(picked.rules, path);
    const tokens = rule?.owners ?? [];
    if (tokens.length === 0 && classifyPath(path) === "content") unowned.push(path);
    for (const t of tokens) {
      if (t.includes("@") && !t.startsWith("@")) emails.add(t);
      const key = t.toLowerCase();
      const l = owners.get(key);
      if (l) l.push(path);
      else owners.set(key, [path]);
    }
  }
  if (unowned.length > 0) {
    warnings.push({
      code: "path-unowned",
      text: `${picked.path} gives no code owner to ${list(unowned)}: "Require review from Code Owners" does not cover them`,
    });
  }
  if (emails.size > 0) {
    warnings.push({
      code: "codeowners-email-owner",
      text: `code owners written as email addresses (${emails.size}) cannot be matched to a login by the gate; write them as @login so their reviews are seen`,
    });
  }
  return { owners, problems, warnings };
}
