/**
 * The approval gate's port: the narrow set of questions the gate rules
 * (evaluate.ts) ask of GitHub, answered as plain typed data. The REST adapter
 * (src/github/) implements it; tests use a hand-made fake
 * (test/helpers/gate-fake.ts). Modelled on policy-bot's `pull.Context`
 * (palantir/policy-bot, pull/context.go): one method per question, a contract
 * comment on each, no GitHub client types leaking through.
 *
 * One contract holds for every method, because the gate fails closed
 * (docs/design.md, "The approval gate": every API error, 404 or truncated list
 * fails closed, with a message naming the cause):
 *   - lists are complete: the adapter follows every page, and when GitHub caps
 *     a list (PR commits at 250, PR files at 3000, a compare at 300 files, a
 *     recursive tree marked `truncated`) or the adapter cannot prove it saw the
 *     whole list, it throws `GateError` of kind "truncated" rather than return
 *     a prefix;
 *   - any API failure (network, 5xx, 403, rate limit, a 404 the method does not
 *     document as an answer, an unexpected payload) throws `GateError`
 *     (src/errors.ts) of kind "api", "not-found" or "invalid-response", naming
 *     the request; anything else thrown is wrapped as kind "port";
 *   - times are the server's, as ISO 8601 strings (`2024-05-01T09:00:00Z`),
 *     never git author or committer dates, which the pusher's machine sets;
 *   - logins are returned as GitHub spells them; the gate compares them
 *     case-insensitively (GitHub logins are not case-sensitive).
 * All methods concern the one repository the adapter was built for
 * (`GITHUB_REPOSITORY`), and an adapter answers each question afresh (no
 * cache shared between gate runs).
 */

/**
 * GitHub's account `type` as the REST API reports it on users. Only "User" is
 * a person who can approve; "Bot" is a GitHub App or similar; "Mannequin" is a
 * placeholder for an imported, unclaimed account. The adapter maps any other
 * value to "Unknown" (which never counts).
 */
export type AccountType = "User" | "Bot" | "Organization" | "Mannequin" | "Unknown";

export interface Account {
  readonly login: string;
  readonly type: AccountType;
}

/** A pull request (REST "Get a pull request"), reduced to what the gate reads. */
export interface PullRequest {
  readonly number: number;
  readonly state: "open" | "closed";
  readonly merged: boolean;
  /**
   * `merge_commit_sha` once merged, else null. GitHub: when merged as a merge
   * commit it is the merge commit; squashed, the squashed commit; rebased, "the
   * commit that the base branch was updated to" (REST "Get a pull request").
   * In each case it is the base branch's new tip, the commit a push-triggered
   * send runs on.
   */
  readonly mergeCommitSha: string | null;
  /** `head.sha`: the PR's final head (frozen at merge for a merged PR). */
  readonly headSha: string;
  /** `head.ref`: the head branch name (without `refs/heads/`). */
  readonly headRef: string;
  /** `head.repo.full_name` (`owner/name`); null when the head repository was deleted. */
  readonly headRepo: string | null;
  /** `base.repo.full_name`: this repository. */
  readonly baseRepo: string;
  /** `base.ref`: the branch the PR targets. */
  readonly baseRef: string;
  /** `base.sha`: the base branch commit the PR was last compared with; CODEOWNERS is read here. */
  readonly baseSha: string;
  /** `base.repo.default_branch`. */
  readonly defaultBranch: string;
  /** `user`: who opened the PR. */
  readonly author: Account;
  /** `merged_at`, or null. */
  readonly mergedAt: string | null;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

/** A pull request review (REST "List reviews for a pull request"). */
export interface Review {
  readonly id: number;
  readonly login: string;
  readonly userType: AccountType;
  /**
   * As GitHub reports it now: a dismissed review reports DISMISSED ("Dismiss a
   * review for a pull request" changes the review's state), whatever it was.
   */
  readonly state: ReviewState;
  /** `commit_id`: the commit the review was submitted on; null when GitHub gives none. */
  readonly commitId: string | null;
  /** `submitted_at`, server time; null for a PENDING (unsubmitted) review. */
  readonly submittedAt: string | null;
}

/** A commit of the pull request (REST "List commits on a pull request"). */
export interface PrCommit {
  readonly sha: string;
  /** `author.login`: the GitHub account linked to the author email; null when none is. */
  readonly authorLogin: string | null;
  /** `committer.login`: likewise for the committer (GitHub's web commits report `web-flow`). */
  readonly committerLogin: string | null;
}

/** A file the pull request changes (REST "List pull requests files"). */
export interface PrFile {
  readonly filename: string;
  /** `previous_filename`, for a renamed file. */
  readonly previousFilename?: string;
  readonly status?: "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";
}

/**
 * What one commit changed against its first parent (REST "Get a commit"): the
 * merge commit a push-triggered send runs on, compared with the default
 * branch before the merge.
 */
export interface CommitChange {
  readonly sha: string;
  /** Parent SHAs, first parent first. */
  readonly parents: readonly string[];
  /** Paths that differ from the first parent's tree (both names of a rename), sorted. */
  readonly paths: readonly string[];
}

/** REST "Get a team membership for a user" `state`; "none" for a 404 on a visible team. */
export type TeamMembership = "active" | "pending" | "none";

/**
 * A user's role on the repository, highest first. REST "Get repository
 * permissions for a user" reports `maintain` as `write` and `triage` as `read`
 * in its legacy `permission` field; the adapter reads `user.permissions`
 * (admin / maintain / push / triage / pull) or `role_name` to tell them apart.
 */
export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

/**
 * What branch protection and rulesets require of pull requests into a branch:
 * the strongest requirement across classic branch protection and every active
 * ruleset (REST "Get rules for a branch", "Get branch protection"). A field is
 * null when the token cannot read it (classic protection needs administration
 * read); `notes` then says what could not be read. These only feed warnings:
 * the gate is the second fence, branch rules the first (docs/design.md, "The approval gate").
 */
export interface BranchRules {
  /** Largest `required_approving_review_count`; 0 when no rule requires reviews. */
  readonly requiredApprovingReviewCount: number | null;
  /** `require_code_owner_review` in any rule. */
  readonly requireCodeOwnerReview: boolean | null;
  /** `dismiss_stale_reviews_on_push` / `dismiss_stale_reviews` in any rule. */
  readonly dismissStaleReviews: boolean | null;
  /** `require_last_push_approval` in any rule ("Require approval of the most recent reviewable push"). */
  readonly requireLastPushApproval: boolean | null;
  /** Contexts of required status checks (union over rules), sorted. */
  readonly requiredStatusChecks: readonly string[] | null;
  /**
   * True when someone can merge past the rules: a ruleset with bypass actors,
   * classic protection without "Do not allow bypassing the above settings"
   * (`enforce_admins` false, so admins bypass), or pull-request bypass
   * allowances.
   */
  readonly bypassActorsPresent: boolean | null;
  /**
   * Who can bypass, when known and not none (so the warning can say who):
   * each ruleset bypass actor by its type and id (never a secret), and
   * classic protection's admins or pull request bypass allowances. Absent
   * when nobody can, or when it could not be read (`bypassActorsPresent`
   * null). Only ruleset bypass actors need a token that may administer the
   * repository (REST "Get a repository ruleset" leaves `bypass_actors` out
   * otherwise).
   */
  readonly bypassActors?: readonly BranchBypass[];
  /** Human-readable notes on what could not be read and why. */
  readonly notes: readonly string[];
}

/** One way past the branch rules (see BranchRules.bypassActors). */
export interface BranchBypass {
  /** Where it is configured: `ruleset 12 "newsletter"`, or `classic branch protection`. */
  readonly source: string;
  /**
   * A ruleset bypass actor's `actor_type` (RepositoryRole, Team, Integration,
   * OrganizationAdmin, DeployKey, User), or for classic protection "admins"
   * (`enforce_admins` off) and "users", "teams", "apps" (pull request bypass
   * allowances).
   */
  readonly actorType: string;
  /** `actor_id` (a role, team, app or user id); the count for classic allowances; null when none applies. */
  readonly actorId: number | null;
  /** `bypass_mode`: "always", "pull_request" (only on pull requests), "exempt"; "always" for classic protection. */
  readonly mode: string;
}

export interface GatePort {
  /**
   * Numbers of the pull requests GitHub associates with commit `sha` (REST
   * "List pull requests associated with a commit",
   * GET /repos/{owner}/{repo}/commits/{sha}/pulls): for a commit on the
   * default branch, "the merged pull request that introduced the commit";
   * otherwise merged and open pull requests that contain it. Every page, in
   * any order; [] when there is none (a direct push). An unknown `sha` (422 or
   * 404) throws kind "not-found".
   */
  pullsForCommit(sha: string): Promise<readonly number[]>;

  /** Pull request `n` (REST "Get a pull request"). A 404 throws kind "not-found". */
  pull(n: number): Promise<PullRequest>;

  /**
   * Every review of pull request `n`, PENDING ones included when visible, in
   * the order GitHub lists them ("in chronological order"). Every page.
   */
  reviews(n: number): Promise<readonly Review[]>;

  /**
   * Every commit of pull request `n`. GitHub's list stops at 250 commits: a
   * PR with more (the PR's `commits` count above the number listed) throws
   * kind "truncated" (or the adapter lists them another way and proves the
   * list complete against that count).
   */
  commits(n: number): Promise<readonly PrCommit[]>;

  /**
   * Every file pull request `n` changes (the diff of its head against the
   * merge base), with the previous name of renamed files. GitHub's list stops
   * at 3000 files: a PR at or above that (the PR's `changed_files` count above
   * the number listed, or 3000 listed) throws kind "truncated".
   */
  files(n: number): Promise<readonly PrFile[]>;

  /**
   * The server time of the latest push that made the head branch of pull
   * request `n` point at `headSha`: the moment after which an approval can be
   * an approval of exactly that head.
   *
   * Source: REST "List repository activities"
   * (GET /repos/{owner}/{repo}/activity?ref=refs/heads/{headRef}), the latest
   * `timestamp` among activities of type push, force_push or branch_creation
   * whose `after` is `headSha`. Every page; none found throws kind
   * "not-found". Why this source:
   *   - REST gives PR commits no push time, and git commit dates are set by
   *     the pusher's machine: spoofable, and a rebase keeps the old dates
   *     (GraphQL's `Commit.pushedDate` was removed in 2023 for being wrong);
   *   - the earliest check suite `created_at` for the sha (REST "List check
   *     suites for a Git reference") is a server time, but it is the FIRST time
   *     the sha was pushed anywhere: push X, approve, force-push Y, force-push
   *     X back and the approval still looks "after the push"; a sha first
   *     pushed to another branch has a suite older than its arrival on the PR;
   *     and a repository with no checks app has no suites at all;
   *   - issue timeline `head_ref_force_pushed` events carry a server
   *     `created_at` but cover force pushes only, and `committed` events carry
   *     only the git dates above;
   *   - repository activities record every push and force push with the ref,
   *     the before/after shas and a server timestamp, so "the last push of
   *     this head" is a direct lookup.
   * An adapter that also consults another server-side source must return the
   * LATEST of the times it finds (a later push time only refuses more).
   */
  lastPushAt(n: number, headSha: string): Promise<string>;

  /**
   * Logins of everyone who pushed to the head branch of pull request `n`
   * (REST "List repository activities" for `refs/heads/{headRef}`, activity
   * types push, force_push and branch_creation, their `actor`): the person
   * who pushed, which git author and committer names do not tell. Every
   * branch activity GitHub keeps counts, not only those of the current head:
   * someone who pushed a commit that was later force-pushed away still
   * touched the pull request. Adapters read the same list as `lastPushAt`
   * (no extra request). An activity without an actor throws kind
   * "invalid-response" (fail closed: an unknown pusher could be an approver).
   */
  pushers(n: number): Promise<readonly string[]>;

  /**
   * What commit `sha` changed against its first parent, with its parents
   * (REST "Get a commit", one page of 100 files). A commit with 100 or more
   * changed files throws kind "truncated" (a content-only pull request never
   * comes near). No parent: every path of its tree.
   */
  commitChange(sha: string): Promise<CommitChange>;

  /**
   * The text of the file at `path` in commit or branch `ref`, or null when
   * there is no such file (404). A directory, symlink or submodule at `path`
   * throws kind "invalid-response"; content GitHub will not inline (over
   * 1 MB) is fetched raw, never returned cut short.
   */
  fileAtRef(path: string, ref: string): Promise<string | null>;

  /**
   * Which of `logins` are ACTIVE members of team `org/slug` (child teams'
   * members included, as GitHub counts them for code owners), as login keys
   * (lowercase). One question per team for any number of logins: the adapter
   * decides by request count between REST "List team members" (GET
   * /orgs/{org}/teams/{team_slug}/members, which lists active members only:
   * pending invitations are a separate list, "List pending team
   * invitations") and one REST "Get team membership for a user" per login. A
   * login that is absent is not an active member (it may be "pending": ask
   * `teamMembership` when that matters). A team the token cannot see
   * (GITHUB_TOKEN cannot read organization teams; a GitHub App token with
   * members: read can) throws kind "not-found" or "api", naming the team, so
   * the report says why rather than "not an owner".
   */
  activeTeamMembers(org: string, slug: string, logins: readonly string[]): Promise<ReadonlySet<string>>;

  /**
   * `login`'s membership of team `org/slug` (REST "Get team membership for a
   * user"): "active", "pending" (invited, not yet accepted; never counts), or
   * "none" (404 for a team the token can see). Asked only to explain why an
   * approval does not count (a pending invitation), never to decide that one does.
   * Team visibility fails as in `activeTeamMembers`.
   */
  teamMembership(org: string, slug: string, login: string): Promise<TeamMembership>;

  /**
   * The current role on this repository of each of `logins`, keyed by login
   * key (lowercase); "none" for a user with no access. Asked at gate time: an
   * owner who lost write access since approving no longer counts. One
   * question for all approvers: the adapter decides by request count between
   * REST "List repository collaborators" (`affiliation=all`, `role_name` is
   * the highest role over every grant) and REST "Get repository permissions
   * for a user" per login, and answers every login it was asked (a login the
   * list does not show is asked individually, never assumed).
   */
  permissions(logins: readonly string[]): Promise<ReadonlyMap<string, Permission>>;

  /**
   * Paths whose content or mode differs between the TREES of commits `baseSha`
   * and `headSha` (both sides of a rename; sorted; [] when the trees are
   * equal). A direct two-tree diff, not GitHub's three-dot compare (which
   * diffs `headSha` against the merge base and so would report a squashed
   * PR's own changes): the adapter may use REST "Compare two commits" only
   * when `baseSha` is an ancestor of `headSha` (`status` "ahead" or
   * "identical", where the merge base is `baseSha` itself), and must throw
   * kind "truncated" at its 300-file cap; otherwise it diffs the recursive
   * trees (REST "Get a tree", `truncated: true` throws).
   */
  changedBetween(baseSha: string, headSha: string): Promise<readonly string[]>;

  /**
   * A summary of the rules that apply to pull requests into `branch` (see
   * BranchRules). What the token cannot read is null with a note, not an
   * error; other API failures throw. Bypass actors of the rulesets that
   * require reviews or status checks are read (REST "Get a repository
   * ruleset", one request per ruleset) only when the token may administer
   * the repository (a pull request's `base.repo.permissions.admin`, already
   * fetched): GitHub shows them to no other token, GITHUB_TOKEN included, so
   * asking would only spend a request.
   */
  branchRules(branch: string): Promise<BranchRules>;
}

/** The method names, for wrapping and for fakes. */
export const GATE_PORT_METHODS = [
  "pullsForCommit",
  "pull",
  "reviews",
  "commits",
  "files",
  "lastPushAt",
  "pushers",
  "commitChange",
  "fileAtRef",
  "activeTeamMembers",
  "teamMembership",
  "permissions",
  "changedBetween",
  "branchRules",
] as const satisfies readonly (keyof GatePort)[];

export type GatePortMethod = (typeof GATE_PORT_METHODS)[number];
