/**
 * `setup` as one function over the RulesetPort: find the ruleset by name,
 * plan (ruleset.ts), and make the one write the plan needs, or none. With
 * `dryRun` the write is returned, not sent. Requests: list + get when up to
 * date (2), list + create when missing (2), list + get + update when
 * outdated (3); a dry run makes the same reads and no write.
 */
import { SetupError } from "./errors.ts";
import type { RulesetPort, RulesetSummary, WriteRequest } from "./port.ts";
import { planRuleset, type Change, type RulesetBody } from "./ruleset.ts";

export interface SetupOutcome {
  /** What was done, or with `dryRun` what would be done. */
  readonly action: "created" | "updated" | "unchanged";
  readonly dryRun: boolean;
  /** The ruleset's id; null for a ruleset a dry run would create. */
  readonly id: number | null;
  readonly name: string;
  readonly changes: readonly Change[];
  /** The write made (or, with `dryRun`, the write that would be made); null when none is needed. */
  readonly request: WriteRequest | null;
  readonly notes: readonly string[];
}

export async function applyRuleset(
  port: RulesetPort,
  desired: RulesetBody,
  dryRun: boolean,
  /** The repository's rulesets when already listed (one list serves both rulesets setup manages). */
  listed?: readonly RulesetSummary[],
): Promise<SetupOutcome> {
  const named = (listed ?? (await port.listRulesets())).filter((r) => r.name === desired.name);
  if (named.length > 1) {
    // GitHub keeps ruleset names unique per repository; two would make "ours" ambiguous.
    throw new SetupError("invalid-response", "listRulesets", `listRulesets: ${named.length} rulesets are named ${JSON.stringify(desired.name)} (ids ${named.map((r) => r.id).join(", ")}); delete all but one`);
  }
  const existing = named[0] ? await port.getRuleset(named[0].id) : null;
  const plan = planRuleset(existing, desired);
  if (plan.action === "none") {
    return { action: "unchanged", dryRun, id: plan.id, name: desired.name, changes: [], request: null, notes: plan.notes };
  }
  const request = plan.action === "create" ? port.createRequest(plan.body) : port.updateRequest(plan.id, plan.body);
  const action = plan.action === "create" ? "created" : "updated";
  if (dryRun) {
    return { action, dryRun, id: plan.action === "update" ? plan.id : null, name: desired.name, changes: plan.changes, request, notes: plan.notes };
  }
  const { id } = await port.send(request);
  return { action, dryRun, id, name: desired.name, changes: plan.changes, request, notes: plan.notes };
}
