/**
 * `setup`'s pure core: the repository ruleset the approval gate wants as its
 * first fence (docs/design.md, "The approval gate": 3 approvals, code-owner
 * review, dismiss stale reviews, approval of the most recent push, required
 * checks), and the plan that brings an existing ruleset there.
 *
 * Shapes are GitHub's REST ruleset shapes ("Create a repository ruleset",
 * POST /repos/{owner}/{repo}/rulesets; "Update a repository ruleset", PUT
 * /repos/{owner}/{repo}/rulesets/{ruleset_id}), so the planned body is the
 * request body as sent.
 *
 * The plan never loosens: a setting already stricter than ours is kept (4
 * required approvals stay 4, thread resolution switched on stays on, extra
 * required checks and rules this module does not manage stay). What it
 * enforces exactly: the ruleset targets the default branch and nothing is
 * excluded, enforcement is active, and there are no bypass actors (an
 * existing one is removed and reported; bypass actors the token cannot see
 * count as a change, so the write that removes them is made).
 *
 * No I/O: inputs are the stage count and the required check contexts
 * (checks.ts reads them from the workflow files).
 */
import { describeBypassActor as describeBypass } from "../gate/branch-rules.ts";

/** The name of the ruleset `setup` manages (rulesets are found by name). */
export const RULESET_NAME = "newsletter";
/** The ruleset on the state branch (docs/design.md, "Trust boundary"). */
export const STATE_RULESET_NAME = "newsletter-state";
/** GitHub Actions' app id: the integration behind check runs of workflow jobs and GITHUB_TOKEN's statuses. */
export const GITHUB_ACTIONS_APP_ID = 15368;
/** GitHub's ruleset condition for "the default branch, whatever its name". */
export const DEFAULT_BRANCH_PATTERN = "~DEFAULT_BRANCH";
/** docs/design.md, "The approval gate": three stages at least; GitHub's `required_approving_review_count` allows 0..10. */
export const MIN_APPROVALS = 3;
export const MAX_APPROVALS = 10;

export interface RuleShape {
  readonly type: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** A required status check as the ruleset names it: its context, pinned to the app that must report it. */
export interface RequiredCheck {
  readonly context: string;
  readonly integration_id: number;
}

export interface BypassActor {
  readonly actor_id: number | null;
  readonly actor_type: string;
  readonly bypass_mode?: string;
}

export interface RefNameCondition {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** A request body of "Create/Update a repository ruleset", as sent. */
export interface RulesetBody {
  readonly name: string;
  readonly target: "branch";
  readonly enforcement: "active";
  readonly conditions: { readonly ref_name: RefNameCondition };
  readonly bypass_actors: readonly BypassActor[];
  readonly rules: readonly RuleShape[];
}

/** A repository ruleset as read ("Get a repository ruleset"). */
export interface ExistingRuleset {
  readonly id: number;
  readonly name: string;
  readonly target: string;
  readonly enforcement: string;
  /** `conditions.ref_name`; null when the ruleset has no ref name condition. */
  readonly refName: RefNameCondition | null;
  /** null: GitHub did not include `bypass_actors` (only tokens that may administer the ruleset see them). */
  readonly bypassActors: readonly BypassActor[] | null;
  readonly rules: readonly RuleShape[];
}

export interface DesiredInput {
  /** Approval stages in the configuration. */
  readonly stageCount: number;
  /** Required status checks (check run names and commit status contexts), each pinned to its app. */
  readonly checks: readonly RequiredCheck[];
}

export interface Change {
  /** Dotted field, e.g. `pull_request.required_approving_review_count`, `bypass_actors`, `rules`. */
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
  /** One line: `pull_request.required_approving_review_count 1 → 3`. */
  readonly text: string;
}

export type Plan =
  | { readonly action: "create"; readonly body: RulesetBody; readonly changes: readonly Change[]; readonly notes: readonly string[] }
  | { readonly action: "update"; readonly id: number; readonly body: RulesetBody; readonly changes: readonly Change[]; readonly notes: readonly string[] }
  | { readonly action: "none"; readonly id: number; readonly changes: readonly []; readonly notes: readonly string[] };

/** `pull_request` parameters the gate relies on; true ones may never be switched off. */
const REQUIRED_TRUE = ["require_code_owner_review", "dismiss_stale_reviews_on_push", "require_last_push_approval"] as const;

/** The approvals to require: one per stage, at least MIN_APPROVALS, at most what GitHub accepts. */
export function approvalsFor(stageCount: number): number {
  return Math.min(MAX_APPROVALS, Math.max(MIN_APPROVALS, Math.floor(stageCount)));
}

/** The ruleset the gate wants on the default branch. */
export function desiredRuleset(input: DesiredInput): RulesetBody {
  const checks = [...new Map(input.checks.map((c) => [c.context, c])).values()];
  return {
    name: RULESET_NAME,
    target: "branch",
    enforcement: "active",
    conditions: { ref_name: { include: [DEFAULT_BRANCH_PATTERN], exclude: [] } },
    bypass_actors: [],
    rules: [
      { type: "deletion" },
      { type: "non_fast_forward" },
      {
        type: "pull_request",
        parameters: {
          required_approving_review_count: approvalsFor(input.stageCount),
          require_code_owner_review: true,
          dismiss_stale_reviews_on_push: true,
          require_last_push_approval: true,
          required_review_thread_resolution: false,
        },
      },
      {
        type: "required_status_checks",
        parameters: {
          // Not strict: with "dismiss stale reviews" every merge into the default branch would
          // otherwise dismiss the approvals of every other open newsletter. The gate compares the
          // merged tree with the reviewed head, and `send` checks the merged tree again.
          strict_required_status_checks_policy: false,
          // Each pinned to its app (`integration_id`): a status or check run of the same name
          // from anyone else (a personal token, another app) does not satisfy it.
          required_status_checks: checks.map((c) => ({ context: c.context, integration_id: c.integration_id })),
        },
      },
    ],
  };
}

/**
 * The ruleset on the state branch (docs/design.md, "Trust boundary"): no
 * update, deletion or force push, except by a deploy key (the one whose
 * private key is the production environment's NEWSLETTER_STATE_DEPLOY_KEY).
 * Not "GitHub Actions" as the bypass: every workflow of every branch runs as
 * that. Deploy keys are added only by repository admins.
 */
export function stateRuleset(branch: string): RulesetBody {
  return {
    name: STATE_RULESET_NAME,
    target: "branch",
    enforcement: "active",
    conditions: { ref_name: { include: [`refs/heads/${branch}`], exclude: [] } },
    bypass_actors: [{ actor_id: null, actor_type: "DeployKey", bypass_mode: "always" }],
    rules: [{ type: "creation" }, { type: "update", parameters: { update_allows_fetch_and_merge: false } }, { type: "deletion" }, { type: "non_fast_forward" }],
  };
}

/** Names who can bypass, by type and id (never a secret): `RepositoryRole 5 (admin), always`. */
export function describeBypassActor(a: BypassActor): string {
  return describeBypass({ actorType: a.actor_type, actorId: a.actor_id, mode: a.bypass_mode ?? "always" });
}

function show(v: unknown): string {
  if (v === undefined) return "(unset)";
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === "string" ? JSON.stringify(x) : String(x))).join(", ")}]`;
  return typeof v === "string" ? v : JSON.stringify(v);
}

function change(field: string, from: unknown, to: unknown): Change {
  return { field, from, to, text: `${field} ${show(from)} → ${show(to)}` };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The same bypass actors, in any order (bypass_mode defaults to "always"). */
function sameActors(a: readonly BypassActor[], b: readonly BypassActor[]): boolean {
  const key = (x: BypassActor) => `${x.actor_type}:${x.actor_id ?? ""}:${x.bypass_mode ?? "always"}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return sameList(ka, kb);
}

function contextOf(item: unknown): string | undefined {
  return typeof item === "object" && item !== null && typeof (item as { context?: unknown }).context === "string"
    ? (item as { context: string }).context
    : undefined;
}

/** Merges one managed rule into the existing one of the same type, never loosening. */
function mergeRule(desired: RuleShape, existing: RuleShape, changes: Change[]): RuleShape {
  const want = desired.parameters ?? {};
  const have = existing.parameters ?? {};
  if (desired.type === "pull_request") {
    const out: Record<string, unknown> = { ...have };
    const count = want["required_approving_review_count"] as number;
    const current = have["required_approving_review_count"];
    if (typeof current !== "number" || current < count) {
      out["required_approving_review_count"] = count;
      changes.push(change("pull_request.required_approving_review_count", current, count));
    }
    for (const key of REQUIRED_TRUE) {
      if (have[key] !== true) {
        out[key] = true;
        changes.push(change(`pull_request.${key}`, have[key], true));
      }
    }
    if (typeof have["required_review_thread_resolution"] !== "boolean") {
      out["required_review_thread_resolution"] = want["required_review_thread_resolution"];
      changes.push(change("pull_request.required_review_thread_resolution", have["required_review_thread_resolution"], want["required_review_thread_resolution"]));
    }
    return { type: existing.type, parameters: out };
  }
  if (desired.type === "required_status_checks") {
    const out: Record<string, unknown> = { ...have };
    const items = Array.isArray(have["required_status_checks"]) ? [...(have["required_status_checks"] as unknown[])] : [];
    const present = new Set(items.map(contextOf).filter((c): c is string => c !== undefined));
    const added: string[] = [];
    for (const item of (want["required_status_checks"] as RequiredCheck[]) ?? []) {
      if (!present.has(item.context)) {
        items.push({ context: item.context, integration_id: item.integration_id });
        added.push(item.context);
        continue;
      }
      // Pinning is never loosened: an unpinned check, or one pinned to another app, is pinned to ours.
      const i = items.findIndex((x) => contextOf(x) === item.context);
      const pinned = (items[i] as { integration_id?: unknown }).integration_id;
      if (pinned !== item.integration_id) {
        items[i] = { context: item.context, integration_id: item.integration_id };
        changes.push(change(`required_status_checks[${JSON.stringify(item.context)}].integration_id`, pinned, item.integration_id));
      }
    }
    out["required_status_checks"] = items;
    if (added.length > 0) {
      changes.push({
        field: "required_status_checks",
        from: [...present],
        to: items.map(contextOf),
        text: `required_status_checks: added ${added.map((c) => JSON.stringify(c)).join(", ")}`,
      });
    }
    if (typeof have["strict_required_status_checks_policy"] !== "boolean") {
      out["strict_required_status_checks_policy"] = want["strict_required_status_checks_policy"];
      changes.push(change("required_status_checks.strict_required_status_checks_policy", have["strict_required_status_checks_policy"], want["strict_required_status_checks_policy"]));
    }
    return { type: existing.type, parameters: out };
  }
  // deletion, non_fast_forward: no parameters to compare.
  return existing;
}

/**
 * What to do so that the default branch carries `desired`: create it when
 * there is no ruleset of that name, update it when a field is weaker or
 * missing, nothing when every field already holds (then no request is made).
 */
export function planRuleset(existing: ExistingRuleset | null, desired: RulesetBody): Plan {
  const notes: string[] = [];
  if (existing === null) {
    const changes: Change[] = [{ field: "ruleset", from: null, to: desired.name, text: `created ruleset ${JSON.stringify(desired.name)}` }];
    return { action: "create", body: desired, changes, notes };
  }
  const changes: Change[] = [];
  if (existing.target !== desired.target) changes.push(change("target", existing.target, desired.target));
  if (existing.enforcement !== desired.enforcement) changes.push(change("enforcement", existing.enforcement, desired.enforcement));
  const include = existing.refName?.include ?? [];
  const exclude = existing.refName?.exclude ?? [];
  if (!sameList(include, desired.conditions.ref_name.include)) {
    changes.push(change("conditions.ref_name.include", include, desired.conditions.ref_name.include));
  }
  if (!sameList(exclude, desired.conditions.ref_name.exclude)) {
    changes.push(change("conditions.ref_name.exclude", exclude, desired.conditions.ref_name.exclude));
  }
  const wanted = desired.bypass_actors;
  const wantedText = wanted.length === 0 ? "none" : wanted.map(describeBypassActor).join("; ");
  if (existing.bypassActors === null) {
    changes.push({
      field: "bypass_actors",
      from: null,
      to: wanted,
      text: `bypass_actors: not visible to this token (it needs repository administration) → ${wantedText}`,
    });
  } else if (!sameActors(existing.bypassActors, wanted)) {
    changes.push({
      field: "bypass_actors",
      from: existing.bypassActors,
      to: wanted,
      text:
        wanted.length === 0
          ? `bypass_actors: removed ${existing.bypassActors.map(describeBypassActor).join("; ")}`
          : `bypass_actors: ${existing.bypassActors.length === 0 ? "none" : existing.bypassActors.map(describeBypassActor).join("; ")} → ${wantedText}`,
    });
  }

  const rules: RuleShape[] = [];
  const handled = new Set<string>();
  for (const rule of existing.rules) {
    const want = desired.rules.find((d) => d.type === rule.type);
    if (want && !handled.has(rule.type)) {
      handled.add(rule.type);
      rules.push(mergeRule(want, rule, changes));
    } else {
      rules.push(rule);
    }
  }
  const kept = existing.rules.filter((r) => !desired.rules.some((d) => d.type === r.type)).map((r) => r.type);
  if (kept.length > 0) notes.push(`kept rules setup does not manage: ${[...new Set(kept)].join(", ")}`);
  for (const want of desired.rules) {
    if (!handled.has(want.type)) {
      rules.push(want);
      changes.push({ field: "rules", from: null, to: want.type, text: `rules: added ${want.type}${describeParameters(want)}` });
    }
  }
  if (changes.length === 0) return { action: "none", id: existing.id, changes: [], notes };
  return {
    action: "update",
    id: existing.id,
    body: { ...desired, rules },
    changes,
    notes,
  };
}

function describeParameters(rule: RuleShape): string {
  const p = rule.parameters;
  if (!p) return "";
  if (rule.type === "required_status_checks") {
    const list = (p["required_status_checks"] as unknown[]).map(contextOf).filter((c) => c !== undefined);
    return ` (${list.map((c) => JSON.stringify(c)).join(", ")})`;
  }
  return ` (${Object.entries(p)
    .map(([k, v]) => `${k}: ${show(v)}`)
    .join(", ")})`;
}
