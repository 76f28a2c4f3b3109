/**
 * "No code owner's latest review is CHANGES_REQUESTED" (docs/design.md,
 * "The approval gate"). Branch protection's "Require review from Code Owners" is
 * satisfied by one owner's approval even while another owner requests
 * changes; the gate is not. Code owners are those of the changed files per
 * CODEOWNERS on the base branch; an owner of a stage counts as well (the
 * stage owners are the gate's own notion of "owner", and refusing on their
 * objection is the fail-closed side). A change request that was dismissed
 * reports state DISMISSED and no longer blocks, as on GitHub.
 */
import { at } from "./identity.ts";
import type { OwnerResolver } from "./ownership.ts";
import type { Problem } from "./result.ts";
import type { ReviewerHistory } from "./reviews.ts";
import type { StageOwners } from "./approvals.ts";

export async function standingChangeRequests(
  histories: readonly ReviewerHistory[],
  stages: readonly StageOwners[],
  codeOwners: ReadonlyMap<string, readonly string[]>,
  resolver: OwnerResolver,
): Promise<Problem[]> {
  const out: Problem[] = [];
  const codeOwnerTokens = [...codeOwners.keys()];
  // One question per team for every reviewer who requests changes (none in a typical run).
  const requesting = histories.filter((h) => h.decisive?.state === "CHANGES_REQUESTED").map((h) => h.login);
  if (requesting.length > 0) {
    await resolver.prefetchTeams(codeOwnerTokens, requesting);
    for (const stage of stages) await resolver.prefetchTeams(stage.owners, requesting);
  }
  for (const h of histories) {
    const r = h.decisive;
    if (r === undefined || r.state !== "CHANGES_REQUESTED") continue;
    const why: string[] = [];
    const code = await resolver.check(codeOwnerTokens, r.login);
    if (code.via !== undefined) {
      const paths = codeOwners.get(code.via) ?? [];
      why.push(`a code owner (${code.via}) of ${paths.slice(0, 3).join(", ")}${paths.length > 3 ? ", ..." : ""}`);
    }
    for (const stage of stages) {
      const check = await resolver.check(stage.owners, r.login);
      if (check.via !== undefined) why.push(`an owner of stage ${stage.name}`);
    }
    if (why.length === 0) continue;
    out.push({
      code: "owner-changes-requested",
      text: `${at(r.login)}, ${why.join(" and ")}, requested changes in review ${r.id} and has not approved since`,
    });
  }
  return out;
}
