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
 * or was shown (commits(), files() and lastPushAt() read from the same PR
 * object instead of fetching it again), the team member lists and the
 * collaborator list it read, and nothing else.
 *
 * Request count of a whole `gate --sha` run for a typical merged PR (at most
 * 100 reviews, commits, files and collaborators; approvers named as users in
 * the stage owners; .github/CODEOWNERS; one ruleset): 10, measured end to end
 * in test/gate-e2e.test.ts —
 *   1 pullsForCommit (its pull-request-simple also answers pull(): no "Get a
 *     pull request"), 2 the configuration and 3 CODEOWNERS at the base
 *     (contents), 4 reviews, 5 commits, 6 the merge commit against its first
 *     parent (commitChange; for a merged PR it stands in for the PR's files),
 *     7 repository activity (lastPushAt and pushers, one list), 8 compare
 *     head...merge (changedBetween), 9 rules for the branch (branchRules),
 *     10 the collaborator list (every approver's permission).
 * `gate --pr N` on an open PR reads "Get a pull request" instead of
 * pullsForCommit and its files instead of a merge commit (no merge to
 * compare: one fewer). Extras, each only
 * when needed: one "List team members" per team the verdict depends on (none
 * when the approvers are named as users); one per-user question for a login
 * the collaborator list does not show, or a membership that may be pending;
 * classic branch protection when no ruleset requires pull request reviews;
 * two recursive trees when a squash or rebase merge changed the tree; the
 * pull request's files when its merge commit is not a merge of its head and
 * it has several commits (a rebase merge: the first parent is one of them); the
 * next CODEOWNERS location when .github/CODEOWNERS does not exist; with a
 * token that may administer the repository (the pull request's
 * `base.repo.permissions.admin`; never GITHUB_TOKEN), one "Get a repository
 * ruleset" per ruleset that requires reviews or checks, for its bypass
 * actors (11 for the typical run above). Without admin the bypass actors
 * are invisible to the token anyway: not asked, reported unknown.
 */
import type { RestEndpointMethodTypes } from "@octokit/rest";
import { GateError } from "../errors.ts";
import { gateErrorOf } from "../gate/port-guard.ts";
import type {
  AccountType,
  BranchBypass,
  BranchRules,
  CommitChange,
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
type CollaboratorData = RestEndpointMethodTypes["repos"]["listCollaborators"]["response"]["data"][number];
type TeamMemberData = RestEndpointMethodTypes["teams"]["listMembersInOrg"]["response"]["data"][number];
type RulesetData = RestEndpointMethodTypes["repos"]["getRepoRuleset"]["response"]["data"];

/** Most rulesets whose bypass actors one gate run reads (one request each). */
const MAX_RULESETS_READ = 3;

/** The fields the gate reads of a pull request: "Get a pull request" and pull-request-simple both have them. */
interface PullCore {
  readonly number: number;
  readonly state: string;
  readonly merged: boolean;
  readonly merge_commit_sha: string | null | undefined;
  readonly merged_at: string | null | undefined;
  readonly head: { readonly sha: string; readonly ref: string; readonly repo: { readonly full_name: string } | null };
  readonly base: { readonly sha: string; readonly ref: string; readonly repo: { readonly full_name: string; readonly default_branch: string } };
  readonly user: { readonly login: string; readonly type: string } | null;
}

function pullCore(d: PullData | PullSimpleData, merged: boolean): PullCore {
  return {
    number: d.number,
    state: d.state,
    merged,
    merge_commit_sha: d.merge_commit_sha,
    merged_at: d.merged_at,
    head: { sha: d.head.sha, ref: d.head.ref, repo: d.head.repo ? { full_name: d.head.repo.full_name } : null },
    base: { sha: d.base.sha, ref: d.base.ref, repo: { full_name: d.base.repo.full_name, default_branch: d.base.repo.default_branch } },
    user: d.user ? { login: d.user.login, type: d.user.type } : null,
  };
}

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

function teamKey(org: string, slug: string): string {
  return `${org}/${slug}`.toLowerCase();
}

/** A base repository role by name (GitHub spells write/read also as push/pull in places); undefined for a custom role. */
function baseRole(name: unknown): Permission | undefined {
  switch (name) {
    case "admin":
    case "maintain":
    case "write":
    case "triage":
    case "read":
    case "none":
      return name;
    case "push":
      return "write";
    case "pull":
      return "read";
    default:
      return undefined;
  }
}

export class GitHubGatePort implements GatePort {
  /** "Get a pull request" answers, fetched or in flight. */
  private readonly pulls = new Map<number, Promise<PullData>>();
  /** pull-request-simple objects listed by pullsForCommit. */
  private readonly listed = new Map<number, PullSimpleData>();
  /** Complete active-member lists of teams, by `org/slug` (lowercase): login keys. */
  private readonly teamLists = new Map<string, ReadonlySet<string>>();
  /** Teams this token was shown (so a per-user 404 means "not a member", not "no such team"). */
  private readonly visibleTeams = new Set<string>();
  /**
   * Whether this token may administer the repository, as the pull requests fetched or listed
   * report it (`base.repo.permissions.admin`); undefined when none said. Decides whether ruleset
   * bypass actors are worth a request (GitHub shows them only to such tokens).
   */
  private tokenAdmin: boolean | undefined;

  private notePermissions(d: PullData | PullSimpleData): void {
    const admin = d.base.repo.permissions?.admin;
    if (typeof admin === "boolean") this.tokenAdmin = admin;
  }

  constructor(private readonly gh: GitHubClient) {}

  /** Runs one port operation, every failure a GateError naming it (the gate's one mapping, `gateErrorOf`). */
  private async op<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw gateErrorOf(operation, e);
    }
  }

  private pullData(n: number): Promise<PullData> {
    let p = this.pulls.get(n);
    if (!p) {
      p = this.gh.octokit.rest.pulls.get({ ...this.gh.repoParams, pull_number: n }).then((r) => {
        this.notePermissions(r.data);
        return r.data;
      });
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
          // REST "List pull requests associated with a commit" returns pull-request-simple: every
          // field the gate reads of a pull request, so pull() need not ask again.
          this.listed.set(p.number, p);
          this.notePermissions(p);
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

  /**
   * The pull request as the gate reads it: "Get a pull request" when it was fetched, else the
   * pull-request-simple of pullsForCommit (same fields; `merged` is `merged_at` being set: REST
   * "Get a pull request" documents `merged_at` as the time of the merge, null when not merged),
   * else fetched now.
   */
  private pullCore(n: number): Promise<PullCore> {
    const fetched = this.pulls.get(n);
    if (fetched) return fetched.then((d) => pullCore(d, d.merged === true));
    const simple = this.listed.get(n);
    if (simple) return Promise.resolve(pullCore(simple, simple.merged_at !== null && simple.merged_at !== undefined));
    return this.pullData(n).then((d) => pullCore(d, d.merged === true));
  }

  /**
   * The PR's own counts of commits and changed files, when "Get a pull request" was (or is
   * being) fetched; undefined when only the pull-request-simple is known. Without them the
   * commit and file lists are still complete by GitHub's documented caps (commits: "a maximum
   * of 250", files: "a maximum of 3000"), which the client refuses to reach.
   */
  private async counts(n: number): Promise<{ commits: number; changedFiles: number } | undefined> {
    const fetched = this.pulls.get(n) ?? (this.listed.has(n) ? undefined : this.pullData(n));
    if (!fetched) return undefined;
    const d = await fetched;
    return { commits: d.commits, changedFiles: d.changed_files };
  }

  pull(n: number): Promise<PullRequest> {
    const operation = `pull(${n})`;
    return this.op(operation, async () => {
      const d = await this.pullCore(n);
      if (d.state !== "open" && d.state !== "closed") throw invalid(operation, `state ${JSON.stringify(d.state)}`);
      if (!d.user) throw invalid(operation, "no user");
      const headSha = str(operation, "head.sha", d.head.sha);
      const baseSha = str(operation, "base.sha", d.base.sha);
      if (!SHA.test(headSha) || !SHA.test(baseSha)) throw invalid(operation, "head.sha or base.sha is not a commit id");
      return {
        number: d.number,
        state: d.state,
        merged: d.merged,
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
      const counts = await this.counts(n);
      // The client refuses 250 or more (GitHub's documented cap) as truncated.
      const list = await this.gh.paginate<CommitData>("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", {
        ...this.gh.repoParams,
        pull_number: n,
      });
      if (counts && list.length < counts.commits) {
        throw new GateError("truncated", `${operation}: GitHub listed ${list.length} of the pull request's ${counts.commits} commits`, { operation });
      }
      if (counts && list.length > counts.commits) {
        throw invalid(operation, `${list.length} commits listed, the pull request says ${counts.commits}: it changed while the gate read it`);
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
      const counts = await this.counts(n);
      // The client refuses 3000 or more (GitHub's documented cap) as truncated.
      const list = await this.gh.paginate<FileData>("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
        ...this.gh.repoParams,
        pull_number: n,
      });
      if (counts && list.length < counts.changedFiles) {
        throw new GateError("truncated", `${operation}: GitHub listed ${list.length} of the pull request's ${counts.changedFiles} changed files`, {
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

  /** The head branch's activities, read once per run (lastPushAt and pushers ask the same list). */
  private readonly activities = new Map<string, Promise<ActivityData[]>>();

  private headActivity(ref: string): Promise<ActivityData[]> {
    let p = this.activities.get(ref);
    if (!p) {
      // REST "List repository activities" (GET /repos/{owner}/{repo}/activity): push, force_push and
      // branch_creation events of the head branch carry the server time, the actor and the `after` sha.
      p = this.gh.paginate<ActivityData>("GET /repos/{owner}/{repo}/activity", { ...this.gh.repoParams, ref });
      p.catch(() => this.activities.delete(ref));
      this.activities.set(ref, p);
    }
    return p;
  }

  lastPushAt(n: number, headSha: string): Promise<string> {
    const operation = `lastPushAt(${n}, ${headSha})`;
    return this.op(operation, async () => {
      const pr = await this.pullCore(n);
      const ref = `refs/heads/${pr.head.ref}`;
      const list = await this.headActivity(ref);
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

  pushers(n: number): Promise<readonly string[]> {
    const operation = `pushers(${n})`;
    return this.op(operation, async () => {
      const pr = await this.pullCore(n);
      const ref = `refs/heads/${pr.head.ref}`;
      const out = new Set<string>();
      for (const a of await this.headActivity(ref)) {
        if (a.ref !== ref || !PUSH_ACTIVITIES.has(a.activity_type)) continue;
        out.add(str(operation, `activity ${a.id} actor.login`, a.actor?.login));
      }
      return [...out].sort();
    });
  }

  commitChange(sha: string): Promise<CommitChange> {
    const operation = `commitChange(${sha})`;
    return this.op(operation, async () => {
      // REST "Get a commit": its parents, and the files that differ from its first parent
      // (up to 300 on the first page; more pages exist, but a content-only change never needs them).
      const { data } = await this.gh.octokit.rest.repos.getCommit({ ...this.gh.repoParams, ref: sha, per_page: 100 });
      const files = data.files ?? [];
      if (files.length >= 100) {
        throw new GateError("truncated", `${operation}: the commit changes ${files.length} or more files; the gate reads one page of 100`, { operation });
      }
      const paths = new Set<string>();
      for (const f of files) {
        paths.add(str(operation, "filename", f.filename));
        if (f.previous_filename) paths.add(f.previous_filename);
      }
      return { sha: str(operation, "sha", data.sha), parents: data.parents.map((p) => str(operation, "parent sha", p.sha)), paths: [...paths].sort() };
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

  private teamNotVisible(operation: string, org: string, slug: string, cause: unknown): GateError {
    return new GateError(
      "not-found",
      `${operation}: team @${org}/${slug} does not exist or this token cannot see it (GITHUB_TOKEN cannot read organization teams; use a GitHub App token with members: read, or list owners as users)`,
      { cause, operation },
    );
  }

  /** REST "Get team membership for a user": the exact state, without asking about the team's existence. */
  private async membershipOf(org: string, slug: string, login: string): Promise<TeamMembership | "not-found"> {
    try {
      const { data } = await this.gh.octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
      if (data.state !== "active" && data.state !== "pending") {
        throw invalid(`teamMembership(${org}/${slug}, ${login})`, `state ${JSON.stringify(data.state)}`);
      }
      this.visibleTeams.add(teamKey(org, slug));
      return data.state;
    } catch (e) {
      if (e instanceof GitHubApiError && e.kind === "not-found") return "not-found";
      throw e;
    }
  }

  teamMembership(org: string, slug: string, login: string): Promise<TeamMembership> {
    const operation = `teamMembership(${org}/${slug}, ${login})`;
    return this.op(operation, async () => {
      const state = await this.membershipOf(org, slug, login);
      if (state !== "not-found") return state;
      // A 404 means "not a member" or "no such team / not visible to this token". A team already
      // seen in this run is visible; otherwise tell them apart with REST "Get a team by name".
      if (!this.visibleTeams.has(teamKey(org, slug))) {
        try {
          await this.gh.octokit.rest.teams.getByName({ org, team_slug: slug });
          this.visibleTeams.add(teamKey(org, slug));
        } catch (e) {
          if (e instanceof GitHubApiError && e.kind === "not-found") throw this.teamNotVisible(operation, org, slug, e);
          throw e;
        }
      }
      return "none";
    });
  }

  /**
   * Decided by request count: the first page of REST "List team members" (100 members; it lists
   * active members only, pending invitations being "List pending team invitations"). When the
   * team has more pages and fewer logins are still unanswered than pages remain, each of those is
   * asked with "Get team membership for a user" (one request each; the team is known visible, so
   * a 404 is "not a member"); otherwise the rest of the list is read, to the end.
   */
  activeTeamMembers(org: string, slug: string, logins: readonly string[]): Promise<ReadonlySet<string>> {
    const wanted = [...new Set(logins.map((l) => l.toLowerCase()))];
    const operation = `activeTeamMembers(${org}/${slug}, [${wanted.join(", ")}])`;
    return this.op(operation, async () => {
      const key = teamKey(org, slug);
      const pick = (members: ReadonlySet<string>) => new Set(wanted.filter((l) => members.has(l)));
      const known = this.teamLists.get(key);
      if (known) return pick(known);
      if (wanted.length === 0) return new Set<string>();
      let page;
      try {
        page = await this.gh.firstPage<TeamMemberData>("GET /orgs/{org}/teams/{team_slug}/members", { org, team_slug: slug });
      } catch (e) {
        if (e instanceof GitHubApiError && e.kind === "not-found") throw this.teamNotVisible(operation, org, slug, e);
        throw e;
      }
      this.visibleTeams.add(key);
      const loginsOf = (list: readonly TeamMemberData[]) => new Set(list.map((m) => str(operation, "member login", m.login).toLowerCase()));
      const first = loginsOf(page.items);
      if (page.complete) {
        this.teamLists.set(key, first);
        return pick(first);
      }
      const missing = wanted.filter((l) => !first.has(l));
      if (page.remainingPages !== undefined && missing.length < page.remainingPages) {
        const out = pick(first);
        for (const login of missing) {
          const state = await this.membershipOf(org, slug, login);
          if (state === "active") out.add(login);
        }
        return out;
      }
      const all = loginsOf(await page.all());
      this.teamLists.set(key, all);
      return pick(all);
    });
  }

  /** REST "Get repository permissions for a user", one login. */
  private async permissionOf(operation: string, login: string): Promise<Permission> {
    try {
      // The legacy `permission` folds maintain into write and triage into read; `user.permissions`
      // and `role_name` keep them apart.
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
      const role = baseRole(data.role_name) ?? baseRole(data.permission);
      if (role === undefined) throw invalid(operation, `permission ${JSON.stringify(data.permission)} of ${login}`);
      return role;
    } catch (e) {
      if (e instanceof GitHubApiError && e.kind === "not-found") return "none";
      throw e;
    }
  }

  /**
   * Decided by request count. One login: "Get repository permissions for a user". More: the
   * first page of REST "List repository collaborators" with `affiliation=all` (outside
   * collaborators, direct members, members through teams, through the organization's base
   * role, and owners); its `role_name` is "the highest role assigned to the collaborator after
   * considering all sources of grants". When pages remain and fewer logins are unanswered than
   * pages remain, those are asked one by one; otherwise the list is read to the end. A login the
   * whole list does not show, or shows with a custom role, is asked one by one too (never
   * assumed). The list needs more than GITHUB_TOKEN may have (GitHub Apps: organization
   * members: read): a 403 falls back to one question per login.
   */
  permissions(logins: readonly string[]): Promise<ReadonlyMap<string, Permission>> {
    const wanted = [...new Set(logins.map((l) => l.toLowerCase()))];
    const operation = `permissions([${wanted.join(", ")}])`;
    return this.op(operation, async () => {
      const out = new Map<string, Permission>();
      const oneByOne = async (list: readonly string[]) => {
        for (const login of list) out.set(login, await this.permissionOf(operation, login));
      };
      if (wanted.length <= 1) {
        await oneByOne(wanted);
        return out;
      }
      let page;
      try {
        page = await this.gh.firstPage<CollaboratorData>("GET /repos/{owner}/{repo}/collaborators", {
          ...this.gh.repoParams,
          affiliation: "all",
        });
      } catch (e) {
        if (e instanceof GitHubApiError && e.status === 403) {
          await oneByOne(wanted);
          return out;
        }
        throw e;
      }
      const take = (list: readonly CollaboratorData[]) => {
        for (const c of list) {
          const login = str(operation, "collaborator login", c.login).toLowerCase();
          if (!wanted.includes(login)) continue;
          const role = baseRole(c.role_name);
          if (role !== undefined) out.set(login, role);
        }
      };
      take(page.items);
      let missing = wanted.filter((l) => !out.has(l));
      if (missing.length > 0 && !page.complete && !(page.remainingPages !== undefined && missing.length < page.remainingPages)) {
        take(await page.all());
        missing = wanted.filter((l) => !out.has(l));
      }
      await oneByOne(missing);
      return out;
    });
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
      // REST "Get rules for a branch": "all active rules that apply to the specified branch ...
      // regardless of the level at which they are configured" (repository or organization), in one
      // list. Classic branch protection (REST "Get branch protection") is read only when no ruleset
      // requires pull request reviews.
      const rules = await this.gh.paginate<RuleData>("GET /repos/{owner}/{repo}/rules/branches/{branch}", {
        ...this.gh.repoParams,
        branch,
      });
      let count = 0;
      let codeOwner = false;
      let dismissStale = false;
      let lastPush = false;
      const checks = new Set<string>();
      let reviewRule = false;
      const rulesets = new Set<number>();
      /** Rulesets whose bypass would skip what the gate's warnings are about: reviews or required checks. */
      const fences = new Set<number>();
      for (const r of rules) {
        if (typeof r.ruleset_id === "number") rulesets.add(r.ruleset_id);
        if (typeof r.ruleset_id === "number" && (r.type === "pull_request" || r.type === "required_status_checks")) fences.add(r.ruleset_id);
        if (r.type === "pull_request" && r.parameters) {
          reviewRule = true;
          count = Math.max(count, r.parameters.required_approving_review_count);
          codeOwner ||= r.parameters.require_code_owner_review;
          dismissStale ||= r.parameters.dismiss_stale_reviews_on_push;
          lastPush ||= r.parameters.require_last_push_approval;
        }
        if (r.type === "required_status_checks" && r.parameters) {
          for (const c of r.parameters.required_status_checks) checks.add(c.context);
        }
      }
      // Bypass actors are only on each ruleset (REST "Get a repository ruleset", one request per
      // ruleset) and GitHub shows them only to tokens that may administer it. Read when this token
      // may (see tokenAdmin); otherwise unknown, with a note, and no request spent.
      let bypass: boolean | null = false;
      const bypassActors: BranchBypass[] = [];
      if (rulesets.size > 0) {
        const read = this.tokenAdmin === true ? await this.rulesetBypass(fences, notes) : undefined;
        if (read === undefined) {
          bypass = null;
          const ids = [...rulesets].sort((x, y) => x - y).join(", ");
          notes.push(`REST "Get rules for a branch" does not list bypass actors; check that ruleset${rulesets.size === 1 ? "" : "s"} ${ids} allow${rulesets.size === 1 ? "s" : ""} no bypass`);
        } else {
          bypass = read.present;
          bypassActors.push(...read.actors);
        }
      }
      if (reviewRule) {
        // A ruleset requires reviews: that is the first fence the warnings are about. Classic
        // protection could only add requirements (the summary takes the strongest), so it is not
        // read; leaving it out can only add warnings, never hide one.
        return {
          requiredApprovingReviewCount: count,
          requireCodeOwnerReview: codeOwner,
          dismissStaleReviews: dismissStale,
          requireLastPushApproval: lastPush,
          requiredStatusChecks: [...checks].sort(),
          bypassActorsPresent: bypass,
          ...(bypass === true && bypassActors.length > 0 ? { bypassActors } : {}),
          notes,
        };
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
          requireCodeOwnerReview: null,
          dismissStaleReviews: null,
          requireLastPushApproval: null,
          requiredStatusChecks: null,
          bypassActorsPresent: null,
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
          for (const kind of ["users", "teams", "apps"] as const) {
            const l = allow?.[kind];
            if (Array.isArray(l) && l.length > 0) bypassActors.push({ source: "classic branch protection", actorType: kind, actorId: l.length, mode: "always" });
          }
        }
        const rsc = classic["required_status_checks"] as { contexts?: string[]; checks?: Array<{ context: string }> } | undefined;
        for (const c of rsc?.contexts ?? []) checks.add(c);
        for (const c of rsc?.checks ?? []) checks.add(c.context);
        const admins = classic["enforce_admins"] as { enabled?: boolean } | undefined;
        if (admins?.enabled !== true) {
          bypass = true;
          bypassActors.push({ source: "classic branch protection", actorType: "admins", actorId: null, mode: "always" });
        }
      }
      return {
        requiredApprovingReviewCount: count,
        requireCodeOwnerReview: codeOwner,
        dismissStaleReviews: dismissStale,
        requireLastPushApproval: lastPush,
        requiredStatusChecks: [...checks].sort(),
        bypassActorsPresent: bypass,
        ...(bypass === true && bypassActors.length > 0 ? { bypassActors } : {}),
        notes,
      };
    });
  }

  /**
   * The bypass actors of rulesets `ids` (REST "Get a repository ruleset", one request each, at
   * most MAX_RULESETS_READ): present when any ruleset lists one, absent when every ruleset lists
   * none, null when some ruleset's list could not be seen (GitHub leaves `bypass_actors` out, or
   * answers 404 for a ruleset configured where this token may not look), with a note. A ruleset
   * `current_user_can_bypass` is about this token, not the approvers: not read.
   */
  private async rulesetBypass(ids: ReadonlySet<number>, notes: string[]): Promise<{ present: boolean | null; actors: BranchBypass[] }> {
    const sorted = [...ids].sort((x, y) => x - y);
    const actors: BranchBypass[] = [];
    let unknown = false;
    if (sorted.length > MAX_RULESETS_READ) {
      unknown = true;
      notes.push(`${sorted.length} rulesets require reviews or checks; bypass actors were read for the first ${MAX_RULESETS_READ} only (ids ${sorted.slice(MAX_RULESETS_READ).join(", ")} not read)`);
    }
    for (const id of sorted.slice(0, MAX_RULESETS_READ)) {
      let data: RulesetData;
      try {
        data = (await this.gh.octokit.rest.repos.getRepoRuleset({ ...this.gh.repoParams, ruleset_id: id })).data;
      } catch (e) {
        if (e instanceof GitHubApiError && (e.kind === "not-found" || e.status === 403)) {
          unknown = true;
          notes.push(`ruleset ${id}: not readable with this token (HTTP ${e.status}), so its bypass actors are unknown`);
          continue;
        }
        throw e;
      }
      const source = `ruleset ${id}${typeof data.name === "string" ? ` ${JSON.stringify(data.name)}` : ""}`;
      if (!Array.isArray(data.bypass_actors)) {
        unknown = true;
        notes.push(`${source}: GitHub did not show its bypass actors to this token (they need repository administration)`);
        continue;
      }
      for (const a of data.bypass_actors) {
        if (typeof a.actor_type !== "string") throw invalid(`branchRules`, `ruleset ${id} has a bypass actor without actor_type`);
        actors.push({ source, actorType: a.actor_type, actorId: typeof a.actor_id === "number" ? a.actor_id : null, mode: a.bypass_mode ?? "always" });
      }
    }
    return { present: actors.length > 0 ? true : unknown ? null : false, actors };
  }
}
