/**
 * The approval gate's port (src/gate/port.ts) over GitHub's REST API, on the
 * client of client.ts. Thin: each method is one question, answered with the
 * fewest requests (per_page=100, so a list of up to 100 items is one
 * request), its payload checked for the fields the gate reads, and every
 * failure turned into a GateError whose `kind` says why and whose message
 * names the operation (the client's error, with status, route and
 * x-github-request-id, stays as `cause`).
 *
 * One adapter serves one gate run: it remembers the pull requests it fetched
 * (commits(), files() and lastPushAt() compare against / read from the same
 * PR object instead of fetching it again), and nothing else.
 *
 * Typical request count for a merged PR with at most 100 reviews, commits and
 * files, one ruleset: pullsForCommit 1, pull 1, reviews 1, commits 1, files
 * 1, lastPushAt 1, changedBetween 1 (3 when the head is not an ancestor of the
 * merge commit and the two trees differ), branchRules 3 (rules, the ruleset
 * for its bypass actors, classic protection): 10. Plus one request per
 * fileAtRef, teamMembership and permission question (a membership 404 costs
 * one more, to tell "not a member" from "team not visible").
 */
import type { RestEndpointMethodTypes } from "@octokit/rest";
import { GateError, type GateErrorKind } from "../errors.ts";
import type {
  AccountType,
  BranchRules,
  GatePort,
  Permission,
  PrCommit,
  PrFile,
  PullRequest,
  Review,
  ReviewState,
  TeamMembership,
} from "../gate/port.ts";
import type { GitHubClient } from "./client.ts";
import { GitHubApiError } from "./errors.ts";

type PullData = RestEndpointMethodTypes["pulls"]["get"]["response"]["data"];
type ReviewData = RestEndpointMethodTypes["pulls"]["listReviews"]["response"]["data"][number];
type CommitData = RestEndpointMethodTypes["pulls"]["listCommits"]["response"]["data"][number];
type FileData = RestEndpointMethodTypes["pulls"]["listFiles"]["response"]["data"][number];
type PullSimpleData = RestEndpointMethodTypes["repos"]["listPullRequestsAssociatedWithCommit"]["response"]["data"][number];
type ActivityData = RestEndpointMethodTypes["repos"]["listActivities"]["response"]["data"][number];
type RuleData = RestEndpointMethodTypes["repos"]["getBranchRules"]["response"]["data"][number];

const FILE_STATUSES = new Set(["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]);
const REVIEW_STATES = new Set<ReviewState>(["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]);
const PUSH_ACTIVITIES = new Set(["push", "force_push", "branch_creation"]);
/** REST "Compare two commits": the files list "includes up to 300 changed files for the entire comparison". */
const COMPARE_FILES_CAP = 300;

function invalid(operation: string, what: string): GateError {
  return new GateError("invalid-response", `${operation}: unexpected response from GitHub: ${what}`, { operation });
}

function accountType(type: unknown): AccountType {
  return type === "User" || type === "Bot" || type === "Organization" || type === "Mannequin" ? type : "Unknown";
}

/** An ISO 8601 time with a zone, as GitHub sends (`2024-05-01T09:00:00Z`). */
function isoTime(operation: string, field: string, v: unknown): string {
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw invalid(operation, `${field} is not an ISO 8601 time: ${JSON.stringify(v)}`);
  }
  return v;
}

function str(operation: string, field: string, v: unknown): string {
  if (typeof v !== "string" || v === "") throw invalid(operation, `${field} is missing`);
  return v;
}

const SHA = /^[0-9a-f]{40}$/i;

export class GitHubGatePort implements GatePort {
  private readonly pulls = new Map<number, Promise<PullData>>();

  constructor(private readonly gh: GitHubClient) {}

  /** Runs one port operation, mapping every failure to a GateError naming it. */
  private async op<T>(operation: string, fn: () => Promise<T>, notFound?: () => T): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof GateError) throw e;
      if (e instanceof GitHubApiError) {
        if (e.kind === "not-found" && notFound) return notFound();
        const kind: GateErrorKind =
          e.kind === "not-found" ? "not-found" : e.kind === "truncated" ? "truncated" : e.kind === "invalid-response" ? "invalid-response" : "api";
        throw new GateError(kind, `${operation}: ${e.message}`, { cause: e, operation });
      }
      const message = e instanceof Error ? e.message : String(e);
      throw new GateError("port", `${operation}: ${message}`, { cause: e, operation });
    }
  }

  private pullData(n: number): Promise<PullData> {
    let p = this.pulls.get(n);
    if (!p) {
      p = this.gh.octokit.rest.pulls.get({ ...this.gh.repoParams, pull_number: n }).then((r) => r.data);
      // A failed fetch is not remembered: the next question asks again (and fails again, closed).
      p.catch(() => this.pulls.delete(n));
      this.pulls.set(n, p);
    }
    return p;
  }

  pullsForCommit(sha: string): Promise<readonly number[]> {
    const operation = `pullsForCommit(${sha})`;
    return this.op(operation, async () => {
      try {
        // REST "List pull requests associated with a commit".
        const list = await this.gh.paginate<PullSimpleData>("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", {
          ...this.gh.repoParams,
          commit_sha: sha,
        });
        return list.map((p) => {
          if (!Number.isInteger(p.number)) throw invalid(operation, "a pull request without a number");
          return p.number;
        });
      } catch (e) {
        // GitHub answers 422 "No commit found for SHA" for an unknown commit.
        if (e instanceof GitHubApiError && e.status === 422) {
          throw new GateError("not-found", `${operation}: no commit ${sha} in ${this.gh.owner}/${this.gh.repo}: ${e.message}`, {
            cause: e,
            operation,
          });
        }
        throw e;
      }
    });
  }

  pull(n: number): Promise<PullRequest> {
    const operation = `pull(${n})`;
    return this.op(operation, async () => {
      const d = await this.pullData(n);
      if (d.state !== "open" && d.state !== "closed") throw invalid(operation, `state ${JSON.stringify(d.state)}`);
      if (!d.user) throw invalid(operation, "no user");
      const headSha = str(operation, "head.sha", d.head.sha);
      const baseSha = str(operation, "base.sha", d.base.sha);
      if (!SHA.test(headSha) || !SHA.test(baseSha)) throw invalid(operation, "head.sha or base.sha is not a commit id");
      return {
        number: d.number,
        state: d.state,
        merged: d.merged === true,
        mergeCommitSha: d.merged ? (d.merge_commit_sha ?? null) : null,
        headSha,
        headRef: str(operation, "head.ref", d.head.ref),
        headRepo: d.head.repo ? d.head.repo.full_name : null,
        baseRepo: str(operation, "base.repo.full_name", d.base.repo.full_name),
        baseRef: str(operation, "base.ref", d.base.ref),
        baseSha,
        defaultBranch: str(operation, "base.repo.default_branch", d.base.repo.default_branch),
        author: { login: str(operation, "user.login", d.user.login), type: accountType(d.user.type) },
        mergedAt: d.merged_at ? isoTime(operation, "merged_at", d.merged_at) : null,
      };
    });
  }

  reviews(n: number): Promise<readonly Review[]> {
    const operation = `reviews(${n})`;
    return this.op(operation, async () => {
      // REST "List reviews for a pull request": "The list of reviews returns in chronological order."
      const list = await this.gh.paginate<ReviewData>("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        ...this.gh.repoParams,
        pull_number: n,
      });
      return list.map((r): Review => {
        if (!REVIEW_STATES.has(r.state as ReviewState)) throw invalid(operation, `review ${r.id} has state ${JSON.stringify(r.state)}`);
        const state = r.state as ReviewState;
        return {
          id: r.id,
          // A deleted account shows as null; GitHub renders it as "ghost". It never counts (type Unknown).
          login: r.user?.login ?? "ghost",
          userType: r.user ? accountType(r.user.type) : "Unknown",
          state,
          commitId: r.commit_id ?? null,
          submittedAt: r.submitted_at ? isoTime(operation, `review ${r.id} submitted_at`, r.submitted_at) : null,
        };
      });
    });
  }

  commits(n: number): Promise<readonly PrCommit[]> {
    const operation = `commits(${n})`;
    return this.op(operation, async () => {
      const pr = await this.pullData(n);
      // The client refuses 250 or more (GitHub's documented cap) as truncated.
      const list = await this.gh.paginate<CommitData>("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", {
        ...this.gh.repoParams,
        pull_number: n,
      });
      if (list.length < pr.commits) {
        throw new GateError("truncated", `${operation}: GitHub listed ${list.length} of the pull request's ${pr.commits} commits`, { operation });
      }
      if (list.length > pr.commits) {
        throw invalid(operation, `${list.length} commits listed, the pull request says ${pr.commits}: it changed while the gate read it`);
      }
      return list.map((c) => ({
        sha: str(operation, "sha", c.sha),
        authorLogin: c.author && "login" in c.author && typeof c.author.login === "string" ? c.author.login : null,
        committerLogin: c.committer && "login" in c.committer && typeof c.committer.login === "string" ? c.committer.login : null,
      }));
    });
  }

  files(n: number): Promise<readonly PrFile[]> {
    const operation = `files(${n})`;
    return this.op(operation, async () => {
      const pr = await this.pullData(n);
      // The client refuses 3000 or more (GitHub's documented cap) as truncated.
      const list = await this.gh.paginate<FileData>("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
        ...this.gh.repoParams,
        pull_number: n,
      });
      if (list.length < pr.changed_files) {
        throw new GateError("truncated", `${operation}: GitHub listed ${list.length} of the pull request's ${pr.changed_files} changed files`, {
          operation,
        });
      }
      return list.map((f): PrFile => {
        if (!FILE_STATUSES.has(f.status)) throw invalid(operation, `file ${f.filename} has status ${JSON.stringify(f.status)}`);
        return {
          filename: str(operation, "filename", f.filename),
          status: f.status,
          ...(f.previous_filename !== undefined ? { previousFilename: f.previous_filename } : {}),
        };
      });
    });
  }

  lastPushAt(n: number, headSha: string): Promise<string> {
    const operation = `lastPushAt(${n}, ${headSha})`;
    return this.op(operation, async () => {
      const pr = await this.pullData(n);
      const ref = `refs/heads/${pr.head.ref}`;
      // REST "List repository activities" (GET /repos/{owner}/{repo}/activity): push, force_push and
      // branch_creation events of the head branch carry the server time and the `after` sha.
      const list = await this.gh.paginate<ActivityData>("GET /repos/{owner}/{repo}/activity", {
        ...this.gh.repoParams,
        ref,
      });
      let latest: string | undefined;
      for (const a of list) {
        if (a.ref !== ref || a.after !== headSha || !PUSH_ACTIVITIES.has(a.activity_type)) continue;
        const t = isoTime(operation, `activity ${a.id} timestamp`, a.timestamp);
        if (latest === undefined || Date.parse(t) > Date.parse(latest)) latest = t;
      }
      if (latest === undefined) {
        throw new GateError(
          "not-found",
          `${operation}: no push of ${headSha} to ${ref} in the repository activity of ${this.gh.owner}/${this.gh.repo}`,
          { operation },
        );
      }
      return latest;
    });
  }

  fileAtRef(path: string, ref: string): Promise<string | null> {
    const operation = `fileAtRef(${JSON.stringify(path)}, ${ref})`;
    return this.op(operation, async () => {
      // REST "Get repository content". A 404 (no such file at ref) is the answer null; a 404
      // from the blob request below is not (the file was just listed), so it fails closed.
      let data: RestEndpointMethodTypes["repos"]["getContent"]["response"]["data"];
      try {
        data = (await this.gh.octokit.rest.repos.getContent({ ...this.gh.repoParams, path, ref })).data;
      } catch (e) {
        if (e instanceof GitHubApiError && e.kind === "not-found") return null;
        throw e;
      }
      if (Array.isArray(data)) throw invalid(operation, `${path} is a directory`);
      if (data.type !== "file") throw invalid(operation, `${path} is a ${data.type}, not a file`);
      let base64: string;
      if ("content" in data && data.encoding === "base64") {
        base64 = data.content;
      } else {
        // Above 1 MB the contents API sends `encoding: "none"` and no content:
        // REST "Get a blob" serves up to 100 MB, base64.
        const blob = await this.gh.octokit.rest.git.getBlob({ ...this.gh.repoParams, file_sha: data.sha });
        if (blob.data.encoding !== "base64") throw invalid(operation, `blob ${data.sha} encoding ${blob.data.encoding}`);
        base64 = blob.data.content;
      }
      const bytes = Buffer.from(base64.replace(/\s+/g, ""), "base64");
      if (bytes.length !== data.size) {
        throw new GateError("truncated", `${operation}: received ${bytes.length} of ${data.size} bytes`, { operation });
      }
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch (e) {
        throw new GateError("invalid-response", `${operation}: ${path} is not UTF-8 text`, { cause: e, operation });
      }
    });
  }

  teamMembership(org: string, slug: string, login: string): Promise<TeamMembership> {
    const operation = `teamMembership(${org}/${slug}, ${login})`;
    return this.op(operation, async () => {
      try {
        // REST "Get team membership for a user".
        const { data } = await this.gh.octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
        if (data.state !== "active" && data.state !== "pending") throw invalid(operation, `state ${JSON.stringify(data.state)}`);
        return data.state;
      } catch (e) {
        if (!(e instanceof GitHubApiError) || e.kind !== "not-found") throw e;
      }
      // 404 means "not a member" or "no such team / not visible to this token": tell them apart
      // with REST "Get a team by name" (one more request, on this path only).
      try {
        await this.gh.octokit.rest.teams.getByName({ org, team_slug: slug });
      } catch (e) {
        if (e instanceof GitHubApiError && e.kind === "not-found") {
          throw new GateError(
            "not-found",
            `${operation}: team @${org}/${slug} does not exist or this token cannot see it (GITHUB_TOKEN cannot read organization teams; use a GitHub App token with members: read, or list owners as users)`,
            { cause: e, operation },
          );
        }
        throw e;
      }
      return "none";
    });
  }

  permission(login: string): Promise<Permission> {
    const operation = `permission(${login})`;
    return this.op(
      operation,
      async () => {
        // REST "Get repository permissions for a user". The legacy `permission` folds maintain into
        // write and triage into read; `user.permissions` and `role_name` keep them apart.
        const { data } = await this.gh.octokit.rest.repos.getCollaboratorPermissionLevel({ ...this.gh.repoParams, username: login });
        const p = data.user?.permissions;
        if (p) {
          if (p.admin) return "admin";
          if (p.maintain) return "maintain";
          if (p.push) return "write";
          if (p.triage) return "triage";
          if (p.pull) return "read";
          return "none";
        }
        const known: readonly Permission[] = ["admin", "maintain", "write", "triage", "read", "none"];
        if (known.includes(data.role_name as Permission)) return data.role_name as Permission;
        if (known.includes(data.permission as Permission)) return data.permission as Permission;
        throw invalid(operation, `permission ${JSON.stringify(data.permission)}`);
      },
      () => "none" as const,
    );
  }

  changedBetween(baseSha: string, headSha: string): Promise<readonly string[]> {
    const operation = `changedBetween(${baseSha}, ${headSha})`;
    return this.op(operation, async () => {
      if (baseSha === headSha) return [];
      // REST "Compare two commits", without paging parameters (files are on the first page only).
      const { data } = await this.gh.octokit.rest.repos.compareCommitsWithBasehead({
        ...this.gh.repoParams,
        basehead: `${baseSha}...${headSha}`,
      });
      if ((data.status === "ahead" || data.status === "identical") && data.merge_base_commit.sha === baseSha) {
        const files = data.files ?? [];
        if (files.length >= COMPARE_FILES_CAP) {
          throw new GateError("truncated", `${operation}: the comparison lists ${files.length} files, GitHub's cap is ${COMPARE_FILES_CAP}`, {
            operation,
          });
        }
        const paths = new Set<string>();
        for (const f of files) {
          paths.add(f.filename);
          if (f.previous_filename) paths.add(f.previous_filename);
        }
        return [...paths].sort();
      }
      // Not an ancestor (a squash or rebase merge). Equal trees need no diff: the comparison
      // names both tree ids (base_commit, and the head as its last commit: "the last commit in
      // the list is the most recent of the entire comparison" without paging parameters).
      const last = data.commits[data.commits.length - 1];
      if (last?.sha === headSha && data.base_commit.sha === baseSha && last.commit.tree.sha === data.base_commit.commit.tree.sha) {
        return [];
      }
      // Otherwise diff the two recursive trees (REST "Get a tree"; `tree_sha` takes a commit too).
      const [a, b] = [await this.tree(operation, baseSha), await this.tree(operation, headSha)];
      const paths = new Set<string>();
      for (const [path, id] of a) if (b.get(path) !== id) paths.add(path);
      for (const path of b.keys()) if (!a.has(path)) paths.add(path);
      return [...paths].sort();
    });
  }

  private async tree(operation: string, sha: string): Promise<Map<string, string>> {
    const { data } = await this.gh.octokit.rest.git.getTree({ ...this.gh.repoParams, tree_sha: sha, recursive: "1" });
    if (data.truncated) {
      throw new GateError("truncated", `${operation}: GitHub truncated the recursive tree of ${sha}`, { operation });
    }
    const out = new Map<string, string>();
    for (const e of data.tree) {
      if (e.type === "tree") continue;
      out.set(str(operation, "tree path", e.path), `${e.mode ?? ""} ${e.sha ?? ""}`);
    }
    return out;
  }

  branchRules(branch: string): Promise<BranchRules> {
    const operation = `branchRules(${branch})`;
    return this.op(operation, async () => {
      const notes: string[] = [];
      // REST "Get rules for a branch": every active rule from rulesets (repository and organization).
      const rules = await this.gh.paginate<RuleData>("GET /repos/{owner}/{repo}/rules/branches/{branch}", {
        ...this.gh.repoParams,
        branch,
      });
      let count = 0;
      let codeOwner = false;
      let dismissStale = false;
      let lastPush = false;
      const checks = new Set<string>();
      const rulesetIds = new Set<number>();
      for (const r of rules) {
        if (typeof r.ruleset_id === "number") rulesetIds.add(r.ruleset_id);
        if (r.type === "pull_request" && r.parameters) {
          count = Math.max(count, r.parameters.required_approving_review_count);
          codeOwner ||= r.parameters.require_code_owner_review;
          dismissStale ||= r.parameters.dismiss_stale_reviews_on_push;
          lastPush ||= r.parameters.require_last_push_approval;
        }
        if (r.type === "required_status_checks" && r.parameters) {
          for (const c of r.parameters.required_status_checks) checks.add(c.context);
        }
      }
      // Bypass actors are only on the ruleset itself (REST "Get a repository ruleset", including
      // rulesets from higher levels), and only for tokens that may administer it.
      let bypass: boolean | null = false;
      for (const id of [...rulesetIds].sort((x, y) => x - y)) {
        const { data } = await this.gh.octokit.rest.repos.getRepoRuleset({
          ...this.gh.repoParams,
          ruleset_id: id,
          includes_parents: true,
        });
        if (data.bypass_actors === undefined) {
          notes.push(`ruleset "${data.name}" (${id}): bypass actors not readable with this token`);
          if (bypass === false) bypass = null;
        } else if (data.bypass_actors.length > 0) {
          bypass = true;
        }
      }
      // Classic branch protection (REST "Get branch protection"): needs administration read.
      let classic: Record<string, unknown> | "unreadable" | "none";
      try {
        const { data } = await this.gh.octokit.rest.repos.getBranchProtection({ ...this.gh.repoParams, branch });
        classic = data as unknown as Record<string, unknown>;
      } catch (e) {
        if (e instanceof GitHubApiError && e.kind === "not-found") {
          classic = "none";
          notes.push(`classic branch protection of ${branch}: none found (GitHub also answers 404 to tokens that may not read it)`);
        } else if (e instanceof GitHubApiError && (e.status === 403 || e.status === 401)) {
          classic = "unreadable";
          notes.push(`classic branch protection of ${branch}: not readable with this token (needs administration: read)`);
        } else {
          throw e;
        }
      }
      if (classic === "unreadable") {
        // What the rulesets already guarantee stays known; the rest may be stronger in classic protection.
        return {
          requiredApprovingReviewCount: null,
          requireCodeOwnerReview: codeOwner ? true : null,
          dismissStaleReviews: dismissStale ? true : null,
          requireLastPushApproval: lastPush ? true : null,
          requiredStatusChecks: null,
          bypassActorsPresent: bypass === true ? true : null,
          notes,
        };
      }
      if (classic !== "none") {
        const prr = classic["required_pull_request_reviews"] as
          | {
              required_approving_review_count?: number;
              require_code_owner_reviews?: boolean;
              dismiss_stale_reviews?: boolean;
              require_last_push_approval?: boolean;
              bypass_pull_request_allowances?: { users?: unknown[]; teams?: unknown[]; apps?: unknown[] };
            }
          | undefined;
        if (prr) {
          count = Math.max(count, prr.required_approving_review_count ?? 0);
          codeOwner ||= prr.require_code_owner_reviews === true;
          dismissStale ||= prr.dismiss_stale_reviews === true;
          lastPush ||= prr.require_last_push_approval === true;
          const allow = prr.bypass_pull_request_allowances;
          if (allow && [allow.users, allow.teams, allow.apps].some((l) => Array.isArray(l) && l.length > 0)) bypass = true;
        }
        const rsc = classic["required_status_checks"] as { contexts?: string[]; checks?: Array<{ context: string }> } | undefined;
        for (const c of rsc?.contexts ?? []) checks.add(c);
        for (const c of rsc?.checks ?? []) checks.add(c.context);
        const admins = classic["enforce_admins"] as { enabled?: boolean } | undefined;
        if (admins?.enabled !== true) bypass = true;
      }
      return {
        requiredApprovingReviewCount: count,
        requireCodeOwnerReview: codeOwner,
        dismissStaleReviews: dismissStale,
        requireLastPushApproval: lastPush,
        requiredStatusChecks: [...checks].sort(),
        bypassActorsPresent: bypass,
        notes,
      };
    });
  }
}
