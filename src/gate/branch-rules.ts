/**
 * Branch protection and rulesets are the first fence, the gate the second
 * (docs/design.md, "The approval gate"): the gate does not rely on them, but warns
 * where they are weaker than what it enforces, so that a merge (and so a send
 * attempt) cannot happen without the approvals in the first place.
 *
 * GitHub Docs, "About protected branches": "Require pull request reviews before
 * merging" (a required number of approvals), "Require review from Code Owners"
 * (satisfied by ONE code owner), "Dismiss stale pull request approvals when new
 * commits are pushed", "Require approval of the most recent reviewable push",
 * "Require status checks to pass before merging", and bypass (admins, and
 * ruleset bypass actors) that lets a merge skip all of these. Pure.
 */
import type { BranchBypass, BranchRules } from "./port.ts";
import type { Warning } from "./result.ts";

/** Built-in repository roles by the `actor_id` GitHub gives them in ruleset bypass lists. */
const REPOSITORY_ROLES: Readonly<Record<number, string>> = { 2: "maintain", 4: "write", 5: "admin" };

/** Who can bypass, by type and id (never a secret): `RepositoryRole 5 (admin), always`. */
export function describeBypassActor(a: { actorType: string; actorId: number | null; mode: string }): string {
  let who: string;
  switch (a.actorType) {
    case "RepositoryRole":
      who = `RepositoryRole${a.actorId !== null ? ` ${a.actorId}${REPOSITORY_ROLES[a.actorId] ? ` (${REPOSITORY_ROLES[a.actorId]})` : ""}` : ""}`;
      break;
    case "OrganizationAdmin":
      who = "OrganizationAdmin (organization owners)";
      break;
    case "DeployKey":
      who = "DeployKey (deploy keys)";
      break;
    case "admins":
      return "repository admins (enforce_admins is off)";
    case "users":
    case "teams":
    case "apps":
      return `${a.actorId ?? "some"} ${a.actorType} allowed to bypass pull request requirements`;
    default:
      who = `${a.actorType}${a.actorId !== null ? ` ${a.actorId}` : ""}`;
  }
  const mode = a.mode === "pull_request" ? "on pull requests" : a.mode;
  return `${who}, ${mode}`;
}

function describeBypasses(list: readonly BranchBypass[]): string {
  const bySource = new Map<string, string[]>();
  for (const b of list) bySource.set(b.source, [...(bySource.get(b.source) ?? []), describeBypassActor(b)]);
  return [...bySource].map(([source, who]) => `${source}: ${who.join("; ")}`).join("; ");
}

export function branchRuleWarnings(branch: string, rules: BranchRules, stageCount: number): Warning[] {
  const out: Warning[] = [];
  const on = `branch rules for ${branch}`;
  const count = rules.requiredApprovingReviewCount;
  if (count !== null && count < stageCount) {
    out.push({
      code: "rules-approval-count",
      text: `${on} require ${count} approving review${count === 1 ? "" : "s"}; the gate requires ${stageCount} (one per stage): require at least ${stageCount}`,
    });
  }
  if (rules.requireCodeOwnerReview === false) {
    out.push({ code: "rules-code-owner-review", text: `${on} do not require review from Code Owners` });
  }
  if (rules.dismissStaleReviews === false) {
    out.push({ code: "rules-dismiss-stale", text: `${on} do not dismiss stale pull request approvals when new commits are pushed` });
  }
  if (rules.requireLastPushApproval === false) {
    out.push({ code: "rules-last-push-approval", text: `${on} do not require approval of the most recent reviewable push` });
  }
  if (rules.requiredStatusChecks !== null && rules.requiredStatusChecks.length === 0) {
    out.push({ code: "rules-status-checks", text: `${on} require no status checks: checks and the approval gate do not block the merge` });
  }
  if (rules.bypassActorsPresent === true) {
    const who = rules.bypassActors && rules.bypassActors.length > 0 ? ` by ${describeBypasses(rules.bypassActors)}` : " (admins or bypass actors can merge without the reviews)";
    out.push({
      code: "rules-bypass-actors",
      text: `${on} can be bypassed${who}; the gate still refuses to send without the approvals (\`newsletter setup\` removes the bypass actors of its ruleset)`,
    });
  }
  const unknown = (
    [
      ["required approving review count", count],
      ["require code owner review", rules.requireCodeOwnerReview],
      ["dismiss stale reviews", rules.dismissStaleReviews],
      ["require last push approval", rules.requireLastPushApproval],
      ["required status checks", rules.requiredStatusChecks],
      ["bypass actors", rules.bypassActorsPresent],
    ] as const
  )
    .filter(([, v]) => v === null)
    .map(([name]) => name);
  if (unknown.length > 0) {
    const why = rules.notes.length > 0 ? ` (${rules.notes.join("; ")})` : "";
    out.push({ code: "rules-unknown", text: `${on}: could not read ${unknown.join(", ")}${why}` });
  }
  return out;
}
