/**
 * What `setup` asks of GitHub: the narrow port over the repository's own
 * rulesets. The REST adapter is src/github/ruleset-adapter.ts; the core
 * (ruleset.ts) never sees a GitHub client type.
 *
 * Every method concerns the one repository the adapter was built for
 * (GITHUB_REPOSITORY). Any API failure throws SetupError (errors.ts) naming
 * the operation, its HTTP status and GitHub's request id; nothing is retried
 * here beyond what the client does (idempotent methods only).
 */
import type { EnvironmentPolicy } from "./environments.ts";
import type { ExistingRuleset, RulesetBody } from "./ruleset.ts";

/** One ruleset of the list (GitHub lists summaries: no rules, conditions or bypass actors). */
export interface RulesetSummary {
  readonly id: number;
  readonly name: string;
  readonly target: string | null;
  readonly enforcement: string;
}

/** A write as it would be sent, for `--dry-run` and for the report. */
export interface WriteRequest {
  readonly method: "POST" | "PUT";
  /** The path with owner, repo and id filled in, e.g. `/repos/corp/newsletters/rulesets/42`. */
  readonly path: string;
  readonly body: RulesetBody;
}

export interface RulesetPort {
  /**
   * The rulesets configured on this repository itself, not those inherited
   * from the organization (REST "Get all repository rulesets",
   * GET /repos/{owner}/{repo}/rulesets with `includes_parents=false`): every
   * page, in GitHub's order.
   */
  listRulesets(): Promise<readonly RulesetSummary[]>;

  /**
   * Ruleset `id` in full (REST "Get a repository ruleset",
   * GET /repos/{owner}/{repo}/rulesets/{ruleset_id}). `bypassActors` is null
   * when GitHub leaves `bypass_actors` out (it shows them only to tokens that
   * may administer the ruleset). A 404 throws kind "not-found".
   */
  getRuleset(id: number): Promise<ExistingRuleset>;

  /** The write that creates a ruleset with `body` (POST /repos/{owner}/{repo}/rulesets), not sent. */
  createRequest(body: RulesetBody): WriteRequest;

  /** The write that replaces ruleset `id` with `body` (PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}), not sent. */
  updateRequest(id: number, body: RulesetBody): WriteRequest;

  /**
   * Sends `request` (from createRequest or updateRequest) and returns the id of the
   * ruleset it created or updated. POST is not retried after a 5xx (it may have
   * been applied: running setup again finds the ruleset by name); PUT is.
   */
  send(request: WriteRequest): Promise<{ id: number }>;

  /** The repository's default branch (REST "Get a repository", `default_branch`). */
  defaultBranch(): Promise<string>;

  /**
   * Environment `name`'s deployment branches (REST "Get an environment", and
   * "List deployment branch policies" when they are custom). A 404 is
   * "missing"; a 403 is "unreadable" with the reason (never an error: the
   * report says what to check by hand).
   */
  environmentPolicy(name: string): Promise<EnvironmentPolicy>;

  /** HTTP requests made so far (retries included). */
  readonly requestCount: number;
}
