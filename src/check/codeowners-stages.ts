/**
 * CODEOWNERS against the approval stages (docs/design.md, "The approval
 * gate"): `newsletters/` and `recipients/` must belong to exactly the owners
 * of `approvals.stages` in .github/newsletter.yml.
 *
 * Why: the ruleset's "Require review from Code Owners" is the first fence,
 * and it asks for an owner per CODEOWNERS. An owner there who owns no stage
 * can satisfy it alone; a stage owner missing there is not asked to review.
 * The gate counts approvals by stage either way, but the two fences should
 * agree. The gate warns when no CODEOWNERS file exists and refuses one with
 * lines GitHub skips; this says the same before the pull request is opened.
 *
 * Pure: the caller reads the files. Owners compare case-insensitively, as
 * GitHub compares logins and team slugs (codeowners/parse.ts, sameOwner).
 */
import { matchingRule, type PickedCodeowners } from "../codeowners/codeowners.ts";
import { FILE_START, finding, type Finding } from "../findings/finding.ts";

/** Where a missing CODEOWNERS is reported: the location the sample uses, and GitHub searches first. */
export const CODEOWNERS_FILE = ".github/CODEOWNERS";

/**
 * `probes`: repository paths under newsletters/ and recipients/ whose owners
 * must be the stage owners (every file there, and a new newsletter and list
 * that do not exist yet, so a rule for the future is checked too).
 */
export function checkCodeownersStages(
  picked: PickedCodeowners | undefined,
  stageOwners: readonly string[],
  probes: readonly string[],
): Finding[] {
  const want = uniqueLower(stageOwners);
  const wanted = [...want.values()].join(" ");
  if (picked === undefined) {
    return [finding("codeowners-missing", CODEOWNERS_FILE, FILE_START,
      `no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS): create ${CODEOWNERS_FILE} with "/newsletters/ ${wanted}" and "/recipients/ ${wanted}", the owners of the approval stages in .github/newsletter.yml`,
    )];
  }
  const problems = picked.errors.map((e) => finding("codeowners-syntax", picked.path, { line: Math.max(1, e.line), column: 1 },
    `${picked.path}: ${e.message} (GitHub skips this line, and the gate refuses a CODEOWNERS file with such lines)`,
  ));
  const reported = new Set<string>();
  for (const probe of probes) {
    const decides = matchingRule(picked.rules, probe);
    const has = uniqueLower(decides?.owners ?? []);
    const missing = [...want.keys()].filter((k) => !has.has(k)).map((k) => want.get(k)!);
    const extra = [...has.keys()].filter((k) => !want.has(k)).map((k) => has.get(k)!);
    if (missing.length === 0 && extra.length === 0) continue;
    const rule = decides?.line ?? 0;
    const key = `${rule}|${missing.join(" ")}|${extra.join(" ")}`;
    if (reported.has(key)) continue;
    reported.add(key);
    const owned = has.size > 0 ? `is owned by ${[...has.values()].join(" ")}${rule > 0 ? ` (line ${rule})` : ""}` : "has no code owner";
    const parts = [
      missing.length > 0 ? `missing stage owners: ${missing.join(" ")}` : "",
      extra.length > 0 ? `not a stage owner: ${extra.join(" ")}` : "",
    ].filter(Boolean);
    problems.push(finding("codeowners-stages", picked.path, { line: rule > 0 ? rule : 1, column: 1 },
      `${probe} ${owned}; newsletters/ and recipients/ must belong to exactly the approval stages' owners (${wanted}, .github/newsletter.yml) — ${parts.join("; ")}`,
    ));
  }
  return problems;
}

/** Owner tokens keyed by their lower-case form, first spelling kept, in order. */
function uniqueLower(tokens: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tokens) if (!out.has(t.toLowerCase())) out.set(t.toLowerCase(), t);
  return out;
}
