/**
 * A local stand-in for the GitHub REST API (node:http on 127.0.0.1, random
 * port), serving GitHub's response shapes from in-memory state, for tests of
 * src/github/ and everything built on it.
 *
 * It cannot drift from GitHub: EVERY response it serves is validated in this
 * (the test) process against GitHub's OpenAPI description (openapi.ts) before
 * it is written. Error bodies of statuses an operation does not document
 * (GitHub sends them anyway: 404s, rate limits, 5xx) are validated against
 * `basic-error`. A response that does not validate is recorded in `drift`,
 * answered with status 599 (which no client retries), and `close()` throws.
 * Injected fault bodies are validated the same way.
 *
 * GitHub behaviour it reproduces, each from GitHub's REST docs:
 *  - pagination: `per_page` (default 30, max 100) and `page`, a `link` header
 *    with rel="next"/"last"/"first"/"prev", omitted when one page holds all;
 *  - documented caps: PR commits list at most 250, PR files at most 3000,
 *    compare at most 300 files — silently, as GitHub does;
 *  - rate-limit headers on every response (x-ratelimit-limit / -remaining /
 *    -used / -reset / -resource); with `remaining` 0 before `reset`, a 403
 *    with remaining 0 (primary rate limit);
 *  - contents API: base64 content wrapped at 60 columns, `encoding: "none"`
 *    and empty content above 1 MB, directories as arrays, 404 when missing;
 *  - git blob SHAs computed as git does (sha1 of "blob <len>\0<content>").
 *
 * State is plain data: `fake.state.pulls.push(...)`, `fake.state.commits`,
 * builders `fake.commit(...)` / `fake.push(...)` for the common steps.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { openApiValidator, type HttpMethod, type OpenApiValidator } from "./openapi.ts";

// ---------------------------------------------------------------- state types

export type AccountType = "User" | "Bot" | "Organization" | "Mannequin";

export interface FakeAccount {
  login: string;
  id: number;
  type: AccountType;
}

export interface FakeCommit {
  sha: string;
  parents: string[];
  message: string;
  /** The GitHub login linked to the author email, or null when none is. */
  author: string | null;
  committer: string | null;
  authorName?: string;
  authorEmail?: string;
  /** Git dates (set by the committer's machine). */
  date: string;
  /** The full tree at this commit: path → content. */
  tree: Record<string, string>;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface FakeReview {
  id: number;
  user: string;
  state: ReviewState;
  commitId: string;
  /** Server time; omitted for PENDING. */
  submittedAt?: string;
  body?: string;
}

export type FileStatus = "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";

export interface FakeFile {
  filename: string;
  status: FileStatus;
  previousFilename?: string;
  additions?: number;
  deletions?: number;
}

export interface FakePull {
  number: number;
  title: string;
  user: string;
  state: "open" | "closed";
  merged: boolean;
  mergeCommitSha: string | null;
  mergedAt: string | null;
  mergedBy?: string;
  head: { ref: string; sha: string; /** owner/name; null: the head repository was deleted. Default: this repository. */ repo?: string | null };
  base: { ref: string; sha: string };
  /** The PR's commits, oldest first. */
  commits: string[];
  /** Explicit files; default: computed from the merge base of base.sha and head.sha to head.sha. */
  files?: FakeFile[];
  reviews: FakeReview[];
  createdAt: string;
  updatedAt?: string;
  body?: string | null;
  draft?: boolean;
}

export interface FakeActivity {
  id: number;
  /** `refs/heads/<branch>`. */
  ref: string;
  before: string;
  after: string;
  activityType: "push" | "force_push" | "branch_deletion" | "branch_creation" | "pr_merge" | "merge_queue_merge";
  actor: string;
  timestamp: string;
}

export interface FakeCheckSuite {
  id: number;
  headSha: string;
  headBranch: string | null;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required" | null;
  app: string;
  createdAt: string;
}

export interface FakeCheckRun {
  id: number;
  name: string;
  headSha: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required" | null;
  title: string | null;
  summary: string | null;
  text: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  startedAt: string;
  completedAt: string | null;
}

export interface FakeStatus {
  id: number;
  sha: string;
  state: "error" | "failure" | "pending" | "success";
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: string;
  createdAt: string;
}

export interface FakeIssueComment {
  id: number;
  issueNumber: number;
  user: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export interface FakeTeam {
  org: string;
  slug: string;
  name?: string;
  id: number;
  members: Record<string, { role: "member" | "maintainer"; state: "active" | "pending" }>;
}

export type RepoRole = "admin" | "maintain" | "write" | "triage" | "read";

export interface FakeRuleset {
  id: number;
  name: string;
  enforcement: "disabled" | "active" | "evaluate";
  /** `ref_name.include` / `exclude` patterns: "~DEFAULT_BRANCH", "~ALL", "refs/heads/<name or glob>". */
  include: string[];
  exclude?: string[];
  /** Rules as GitHub's ruleset API spells them: `{ type: "pull_request", parameters: {...} }`. */
  rules: Array<{ type: string; parameters?: Record<string, unknown> }>;
  /** Omitted: the token cannot see bypass actors (GitHub leaves the field out for non-admins). */
  bypassActors?: Array<{ actor_id: number | null; actor_type: string; bypass_mode: string }>;
}

/**
 * The `pull_request` rule as the gate wants it (and `setup` writes it): three
 * approvals, code owners, stale approvals dismissed, approval of the last push.
 * One definition for every test world that needs strong branch rules.
 */
export function strongPullRequestRule(): FakeRuleset["rules"][number] {
  return {
    type: "pull_request",
    parameters: {
      required_approving_review_count: 3,
      require_code_owner_review: true,
      dismiss_stale_reviews_on_push: true,
      require_last_push_approval: true,
      required_review_thread_resolution: false,
    },
  };
}

/**
 * The newsletter repository's world that the gate tests and the lifecycle
 * share: the three stage teams (alice edits, bob is privacy, carol the
 * admins; `extra` adds members per team slug), write access for the
 * `collaborators`, the ruleset on the default branch — the strong
 * pull_request rule and the required checks `contexts` — and the state
 * branch's ruleset (no update, deletion or force push but by a deploy key),
 * which a send on GitHub verifies before its first message.
 */
export function newsletterWorld(
  fake: GitHubFake,
  o: { contexts: readonly string[]; collaborators: Record<string, RepoRole>; extra?: Record<string, FakeTeam["members"]> },
): void {
  const team = (slug: string, id: number, lead: string): FakeTeam => ({
    org: "corp", slug, id, members: { [lead]: { role: "maintainer", state: "active" }, ...(o.extra?.[slug] ?? {}) },
  });
  fake.state.teams.push(team("newsletter-editors", 31, "alice"), team("privacy-office", 32, "bob"), team("newsletter-admins", 33, "carol"));
  Object.assign(fake.state.collaborators, o.collaborators);
  fake.state.rulesets.push({
    id: 1,
    name: "main: newsletters",
    enforcement: "active",
    include: ["~DEFAULT_BRANCH"],
    rules: [
      strongPullRequestRule(),
      {
        type: "required_status_checks",
        parameters: { strict_required_status_checks_policy: true, required_status_checks: o.contexts.map((context) => ({ context })) },
      },
    ],
  });
  fake.state.rulesets.push(stateBranchRuleset());
}

/** The ruleset `setup` puts on the state branch (src/setup/ruleset.ts, stateRuleset), as the fake stores it. */
export function stateBranchRuleset(branch = "newsletter-state", id = 2): FakeRuleset {
  return {
    id,
    name: "newsletter-state",
    enforcement: "active",
    include: [`refs/heads/${branch}`],
    rules: [{ type: "creation" }, { type: "update", parameters: { update_allows_fetch_and_merge: false } }, { type: "deletion" }, { type: "non_fast_forward" }],
    bypassActors: [{ actor_id: null, actor_type: "DeployKey", bypass_mode: "always" }],
  };
}

/** GitHub's simple-user object for `a`, its links under the API base `apiBase` (the fake's responses and webhook payloads alike). */
export function simpleUserOf(apiBase: string, a: FakeAccount): Record<string, unknown> {
  const login = a.login;
  const u = `${apiBase}/users/${encodeURIComponent(login)}`;
  return {
    login: a.login,
    id: a.id,
    node_id: `U_kgDO${a.id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${a.id}?v=4`,
    gravatar_id: "",
    url: u,
    html_url: a.type === "Bot" ? `https://github.com/apps/${encodeURIComponent(login.replace(/\[bot\]$/, ""))}` : `https://github.com/${encodeURIComponent(login)}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type: a.type,
    user_view_type: "public",
    site_admin: false,
  };
}

export interface FakeState {
  repo: {
    owner: string;
    name: string;
    id: number;
    private: boolean;
    defaultBranch: string;
    ownerType: "Organization" | "User";
  };
  users: Record<string, FakeAccount>;
  /** branch → head sha. */
  branches: Record<string, string>;
  commits: FakeCommit[];
  pulls: FakePull[];
  activities: FakeActivity[];
  checkSuites: FakeCheckSuite[];
  checkRuns: FakeCheckRun[];
  statuses: FakeStatus[];
  issueComments: FakeIssueComment[];
  /** issue number → raw timeline events (validated like every response). */
  timeline: Record<number, unknown[]>;
  teams: FakeTeam[];
  collaborators: Record<string, RepoRole>;
  /** "forbidden": REST "List repository collaborators" answers 403 (a token without organization members: read). */
  collaboratorList: "ok" | "forbidden";
  rulesets: FakeRuleset[];
  /**
   * Deployment environments by name: `policy` null lets every branch deploy; "protected" only
   * protected branches; a list of branch name patterns ("custom branch policies").
   */
  environments: Record<string, { policy: null | "protected" | string[] }>;
  /**
   * The token's role as GitHub reports it in `permissions` of repository objects (a pull
   * request's `base.repo`, "Get a repository"); unset: the field is left out.
   */
  tokenPermissions?: { admin: boolean; maintain: boolean; push: boolean; triage: boolean; pull: boolean };
  /** Classic branch protection: branch → partial `branch-protection` body, or "forbidden" (403, the token cannot read it). */
  protections: Record<string, Record<string, unknown> | "forbidden">;
  rateLimit: { limit: number; remaining: number; reset: number; used: number };
  /**
   * Route template → most items that list serves, silently (no link beyond), the way GitHub
   * caps some lists: for truncation tests of lists GitHub does not cap itself.
   */
  listCaps: Record<string, number>;
}

export interface Fault {
  method?: string;
  /** Route template (`/repos/{owner}/{repo}/pulls/{pull_number}`) or a RegExp on the request path. */
  route?: string | RegExp;
  /** An HTTP status; "reset" destroys the connection without a response; "hang" never answers. */
  status: number | "reset" | "hang";
  /** How many matching requests to fail; default 1. Infinity: all. */
  times?: number;
  /** Let this many matching requests through first. */
  skip?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** The matched route template, or null for an unknown route. */
  route: string | null;
  query: Record<string, string>;
  status: number;
  authorization: string | undefined;
  userAgent: string | undefined;
  apiVersion: string | undefined;
  body: unknown;
}

export interface Drift {
  method: string;
  route: string;
  status: number;
  errors: string[];
}

export interface GitHubFake {
  /** Base URL to give the client as GITHUB_API_URL (includes basePath). */
  readonly url: string;
  readonly state: FakeState;
  readonly faults: Fault[];
  readonly requests: LoggedRequest[];
  /** Responses that did not validate against GitHub's OpenAPI description. */
  readonly drift: Drift[];
  readonly validator: OpenApiValidator;
  /** Adds a commit on top of `parent` (or a root commit) with `files` changed (null deletes); returns it. */
  commit(opts: {
    parent?: string | null;
    files: Record<string, string | null>;
    message?: string;
    author?: string | null;
    committer?: string | null;
    date?: string;
  }): FakeCommit;
  /** Points `branch` at `sha` and records the repository activity GitHub would (push, force_push, branch_creation). */
  push(branch: string, sha: string, opts?: { actor?: string; at?: string; force?: boolean }): FakeActivity;
  /**
   * Adds pull request `number` with defaults for what is not given (open, by alice, head
   * branch nl/<number>, base the default branch); returns the stored object.
   */
  pull(p: Partial<FakePull> & { number: number; head: FakePull["head"]; base: FakePull["base"] }): FakePull;
  /** Ensures an account exists; logins ending in [bot] are Bots. */
  user(login: string, type?: AccountType): FakeAccount;
  /** Queues a fault (see Fault). */
  fail(route: string | RegExp, status: Fault["status"], opts?: Omit<Fault, "route" | "status">): void;
  /** Requests so far whose route is `route` (template). */
  count(route?: string): number;
  close(): Promise<void>;
}

export interface GitHubFakeOptions {
  owner?: string;
  repo?: string;
  defaultBranch?: string;
  private?: boolean;
  /** Path prefix of the API, e.g. "/api/v3" as on GitHub Enterprise Server. Default "". */
  basePath?: string;
  /** The token the fake requires (`authorization: token X` or `Bearer X`); unset: any or none. */
  token?: string;
}

// ---------------------------------------------------------------- helpers

const sha1 = (s: string | Buffer): string => createHash("sha1").update(s).digest("hex");

/** Git's blob id: sha1("blob <size>\0<content>"). */
export function gitBlobSha(content: string): string {
  const buf = Buffer.from(content, "utf8");
  return sha1(Buffer.concat([Buffer.from(`blob ${buf.length}\0`), buf]));
}

/** GitHub's contents API wraps base64 at 60 columns with "\n". */
function base64Wrapped(content: string): string {
  const b64 = Buffer.from(content, "utf8").toString("base64");
  return (b64.match(/.{1,60}/g) ?? [""]).join("\n") + "\n";
}

const iso = (d: Date | number = Date.now()): string => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");

function lineCount(s: string): number {
  if (s === "") return 0;
  return s.split("\n").length - (s.endsWith("\n") ? 1 : 0);
}

class HttpError {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

interface Ctx {
  method: string;
  template: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Parameters GitHub marks `x-multi-segment`: they may hold "/". */
const MULTI_SEGMENT = new Set(["path", "ref", "basehead", "tree_sha", "branch", "commit_sha"]);

// ---------------------------------------------------------------- the fake

export async function startGitHubFake(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
  const validator = openApiValidator();
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  let nextId = 1000;
  const id = (): number => ++nextId;

  const state: FakeState = {
    repo: {
      owner: options.owner ?? "corp",
      name: options.repo ?? "newsletters",
      id: 4242,
      private: options.private ?? true,
      defaultBranch: options.defaultBranch ?? "main",
      ownerType: "Organization",
    },
    users: {},
    branches: {},
    commits: [],
    pulls: [],
    activities: [],
    checkSuites: [],
    checkRuns: [],
    statuses: [],
    issueComments: [],
    timeline: {},
    teams: [],
    collaborators: {},
    collaboratorList: "ok",
    rulesets: [],
    environments: {},
    protections: {},
    rateLimit: { limit: 5000, remaining: 5000, reset: Math.floor(Date.now() / 1000) + 3600, used: 0 },
    listCaps: {},
  };
  const faults: Fault[] = [];
  const requests: LoggedRequest[] = [];
  const drift: Drift[] = [];
  let origin = "";
  const api = (): string => `${origin}${basePath}`;
  const fullName = (): string => `${state.repo.owner}/${state.repo.name}`;
  const repoApi = (): string => `${api()}/repos/${fullName()}`;
  const repoHtml = (): string => `https://github.com/${fullName()}`;

  function user(login: string, type?: AccountType): FakeAccount {
    const existing = state.users[login];
    if (existing) return existing;
    const account: FakeAccount = { login, id: id(), type: type ?? (login.endsWith("[bot]") ? "Bot" : "User") };
    state.users[login] = account;
    return account;
  }

  // ------------------------------------------------------------ builders of GitHub shapes

  function simpleUser(login: string): Record<string, unknown> {
    return simpleUserOf(api(), user(login));
  }

  function ownerUser(): Record<string, unknown> {
    return simpleUser(user(state.repo.owner, state.repo.ownerType).login);
  }

  /** The fields shared by minimal-repository, repository and full-repository. */
  function repoCore(repoFull = fullName(), repoId = state.repo.id): Record<string, unknown> {
    const [owner = "", name = ""] = repoFull.split("/");
    const r = `${api()}/repos/${repoFull}`;
    if (owner !== state.repo.owner) user(owner);
    return {
      id: repoId,
      node_id: `R_kgDO${repoId}`,
      name,
      full_name: repoFull,
      owner: owner === state.repo.owner ? ownerUser() : simpleUser(owner),
      private: state.repo.private,
      html_url: `https://github.com/${repoFull}`,
      description: "Newsletters, each one a pull request",
      fork: repoFull !== fullName(),
      url: r,
      archive_url: `${r}/{archive_format}{/ref}`,
      assignees_url: `${r}/assignees{/user}`,
      blobs_url: `${r}/git/blobs{/sha}`,
      branches_url: `${r}/branches{/branch}`,
      collaborators_url: `${r}/collaborators{/collaborator}`,
      comments_url: `${r}/comments{/number}`,
      commits_url: `${r}/commits{/sha}`,
      compare_url: `${r}/compare/{base}...{head}`,
      contents_url: `${r}/contents/{+path}`,
      contributors_url: `${r}/contributors`,
      deployments_url: `${r}/deployments`,
      downloads_url: `${r}/downloads`,
      events_url: `${r}/events`,
      forks_url: `${r}/forks`,
      git_commits_url: `${r}/git/commits{/sha}`,
      git_refs_url: `${r}/git/refs{/sha}`,
      git_tags_url: `${r}/git/tags{/sha}`,
      hooks_url: `${r}/hooks`,
      issue_comment_url: `${r}/issues/comments{/number}`,
      issue_events_url: `${r}/issues/events{/number}`,
      issues_url: `${r}/issues{/number}`,
      keys_url: `${r}/keys{/key_id}`,
      labels_url: `${r}/labels{/name}`,
      languages_url: `${r}/languages`,
      merges_url: `${r}/merges`,
      milestones_url: `${r}/milestones{/number}`,
      notifications_url: `${r}/notifications{?since,all,participating}`,
      pulls_url: `${r}/pulls{/number}`,
      releases_url: `${r}/releases{/id}`,
      stargazers_url: `${r}/stargazers`,
      statuses_url: `${r}/statuses/{sha}`,
      subscribers_url: `${r}/subscribers`,
      subscription_url: `${r}/subscription`,
      tags_url: `${r}/tags`,
      teams_url: `${r}/teams`,
      trees_url: `${r}/git/trees{/sha}`,
    };
  }

  /** `repository` (PR head/base repos): core plus counts and flags. */
  function repository(repoFull = fullName(), repoId = state.repo.id): Record<string, unknown> {
    const core = repoCore(repoFull, repoId);
    return {
      ...core,
      clone_url: `https://github.com/${repoFull}.git`,
      git_url: `git://github.com/${repoFull}.git`,
      ssh_url: `git@github.example:${repoFull}.git`,
      svn_url: `https://github.com/${repoFull}`,
      mirror_url: null,
      homepage: null,
      language: null,
      forks: 0,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      watchers: 0,
      size: 100,
      default_branch: state.repo.defaultBranch,
      open_issues: 0,
      open_issues_count: 0,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: state.repo.private ? "private" : "public",
      pushed_at: "2024-05-01T08:00:00Z",
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-05-01T08:00:00Z",
      allow_forking: false,
      web_commit_signoff_required: false,
      license: null,
      ...(state.tokenPermissions && repoFull === fullName() ? { permissions: { ...state.tokenPermissions } } : {}),
    };
  }

  function fullRepository(): Record<string, unknown> {
    return { ...repository(), network_count: 0, subscribers_count: 1, organization: ownerUser() };
  }

  function findCommit(sha: string): FakeCommit | undefined {
    return state.commits.find((c) => c.sha === sha);
  }

  /** A branch name, `refs/heads/x`, or a (full) commit sha → commit. */
  function resolveRef(ref: string): FakeCommit | undefined {
    const branch = ref.replace(/^refs\/heads\//, "");
    const sha = state.branches[branch] ?? ref;
    return findCommit(sha) ?? (sha.length >= 7 ? state.commits.find((c) => c.sha.startsWith(sha)) : undefined);
  }

  function gitUser(login: string | null, name: string | undefined, email: string | undefined, date: string) {
    return { name: name ?? login ?? "Someone", email: email ?? `${login ?? "someone"}@users.noreply.example.com`, date };
  }

  function treeSha(tree: Record<string, string>): string {
    return sha1(JSON.stringify(Object.entries(tree).sort()));
  }

  /** The `commit` schema (list commits, compare). */
  function commitBody(c: FakeCommit): Record<string, unknown> {
    const u = `${repoApi()}/commits/${c.sha}`;
    return {
      url: u,
      sha: c.sha,
      node_id: `C_kwDO${c.sha.slice(0, 12)}`,
      html_url: `${repoHtml()}/commit/${c.sha}`,
      comments_url: `${u}/comments`,
      commit: {
        url: `${repoApi()}/git/commits/${c.sha}`,
        author: gitUser(c.author, c.authorName, c.authorEmail, c.date),
        committer: gitUser(c.committer, undefined, undefined, c.date),
        message: c.message,
        comment_count: 0,
        tree: { sha: treeSha(c.tree), url: `${repoApi()}/git/trees/${treeSha(c.tree)}` },
        verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
      },
      author: c.author === null ? null : simpleUser(c.author),
      committer: c.committer === null ? null : simpleUser(c.committer),
      parents: c.parents.map((p) => ({ sha: p, url: `${repoApi()}/commits/${p}`, html_url: `${repoHtml()}/commit/${p}` })),
    };
  }

  function diffEntry(f: FakeFile, ref: string, content?: string): Record<string, unknown> {
    const additions = f.additions ?? (content !== undefined ? lineCount(content) : 1);
    const deletions = f.deletions ?? 0;
    const path = f.filename.split("/").map(encodeURIComponent).join("/");
    return {
      sha: f.status === "removed" || content === undefined ? null : gitBlobSha(content),
      filename: f.filename,
      status: f.status,
      additions,
      deletions,
      changes: additions + deletions,
      blob_url: `${repoHtml()}/blob/${ref}/${path}`,
      raw_url: `${repoHtml()}/raw/${ref}/${path}`,
      contents_url: `${repoApi()}/contents/${path}?ref=${ref}`,
      ...(f.previousFilename !== undefined ? { previous_filename: f.previousFilename } : {}),
    };
  }

  /** Files differing between two trees, as GitHub's diff entries (no rename detection). */
  function treeDiff(from: Record<string, string>, to: Record<string, string>): FakeFile[] {
    const out: FakeFile[] = [];
    const paths = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    for (const p of paths) {
      const a = from[p];
      const b = to[p];
      if (a === b) continue;
      if (a === undefined) out.push({ filename: p, status: "added", additions: lineCount(b ?? ""), deletions: 0 });
      else if (b === undefined) out.push({ filename: p, status: "removed", additions: 0, deletions: lineCount(a) });
      else out.push({ filename: p, status: "modified", additions: lineCount(b), deletions: lineCount(a) });
    }
    return out;
  }

  function ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length > 0) {
      const s = stack.pop() as string;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const p of findCommit(s)?.parents ?? []) stack.push(p);
    }
    return seen;
  }

  /**
   * Git's merge base: a best common ancestor, one that no other common ancestor descends from.
   * (A breadth-first walk is not enough: from a merge commit whose first parent is the base
   * branch, it would meet the base before the merged head that is itself an ancestor.)
   */
  function mergeBase(a: string, b: string): string | undefined {
    const ofA = ancestors(a);
    const common = [...ancestors(b)].filter((s) => ofA.has(s));
    // Common ancestors are closed under "parent of": one is not best exactly when it is the
    // parent of another.
    const parents = new Set(common.flatMap((c) => findCommit(c)?.parents ?? []));
    return common.filter((c) => !parents.has(c)).sort()[0];
  }

  function pullFiles(p: FakePull): { files: FakeFile[]; tree: Record<string, string> } {
    const head = findCommit(p.head.sha);
    const tree = head?.tree ?? {};
    if (p.files) return { files: p.files, tree };
    const base = mergeBase(p.base.sha, p.head.sha);
    return { files: treeDiff(base ? (findCommit(base)?.tree ?? {}) : {}, tree), tree };
  }

  function prLinks(n: number): Record<string, unknown> {
    const r = repoApi();
    return {
      self: { href: `${r}/pulls/${n}` },
      html: { href: `${repoHtml()}/pull/${n}` },
      issue: { href: `${r}/issues/${n}` },
      comments: { href: `${r}/issues/${n}/comments` },
      review_comments: { href: `${r}/pulls/${n}/comments` },
      review_comment: { href: `${r}/pulls/comments{/number}` },
      commits: { href: `${r}/pulls/${n}/commits` },
      statuses: { href: `${r}/statuses/${"0".repeat(40)}` },
    };
  }

  function prRef(side: { ref: string; sha: string; repo?: string | null }): Record<string, unknown> {
    const repoFull = side.repo === undefined ? fullName() : side.repo;
    const owner = repoFull === null ? state.repo.owner : (repoFull.split("/")[0] ?? state.repo.owner);
    return {
      label: `${owner}:${side.ref}`,
      ref: side.ref,
      sha: side.sha,
      user: owner === state.repo.owner ? ownerUser() : simpleUser(owner),
      repo: repoFull === null ? null : repository(repoFull, repoFull === fullName() ? state.repo.id : 90000 + repoFull.length),
    };
  }

  function associationOf(login: string): string {
    if (login === state.repo.owner) return "OWNER";
    if (state.collaborators[login] !== undefined) return "COLLABORATOR";
    if (state.teams.some((t) => t.members[login]?.state === "active")) return "MEMBER";
    return "CONTRIBUTOR";
  }

  /** `pull-request-simple` (lists). */
  function pullSimple(p: FakePull): Record<string, unknown> {
    const r = repoApi();
    const n = p.number;
    const head = { ...p.head };
    return {
      url: `${r}/pulls/${n}`,
      id: 700000 + n,
      node_id: `PR_kwDO${n}`,
      html_url: `${repoHtml()}/pull/${n}`,
      diff_url: `${repoHtml()}/pull/${n}.diff`,
      patch_url: `${repoHtml()}/pull/${n}.patch`,
      issue_url: `${r}/issues/${n}`,
      commits_url: `${r}/pulls/${n}/commits`,
      review_comments_url: `${r}/pulls/${n}/comments`,
      review_comment_url: `${r}/pulls/comments{/number}`,
      comments_url: `${r}/issues/${n}/comments`,
      statuses_url: `${r}/statuses/${p.head.sha}`,
      number: n,
      state: p.state,
      locked: false,
      title: p.title,
      user: simpleUser(p.user),
      body: p.body ?? null,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: p.createdAt,
      updated_at: p.updatedAt ?? p.mergedAt ?? p.createdAt,
      closed_at: p.state === "closed" ? (p.mergedAt ?? p.updatedAt ?? p.createdAt) : null,
      merged_at: p.mergedAt,
      merge_commit_sha: p.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: prRef(head),
      base: prRef({ ...p.base, repo: fullName() }),
      _links: prLinks(n),
      author_association: associationOf(p.user),
      auto_merge: null,
      draft: p.draft ?? false,
    };
  }

  /** `pull-request` (get). */
  function pullFull(p: FakePull): Record<string, unknown> {
    const { files } = pullFiles(p);
    const additions = files.reduce((s, f) => s + (f.additions ?? 0), 0);
    const deletions = files.reduce((s, f) => s + (f.deletions ?? 0), 0);
    return {
      ...pullSimple(p),
      merged: p.merged,
      mergeable: p.state === "open" ? true : null,
      rebaseable: p.state === "open" ? true : null,
      mergeable_state: p.state === "open" ? "clean" : "unknown",
      merged_by: p.merged && p.mergedBy ? simpleUser(p.mergedBy) : null,
      comments: state.issueComments.filter((c) => c.issueNumber === p.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: p.commits.length,
      additions,
      deletions,
      changed_files: files.length,
    };
  }

  function reviewBody(p: FakePull, r: FakeReview): Record<string, unknown> {
    const rv = `${repoApi()}/pulls/${p.number}`;
    return {
      id: r.id,
      node_id: `PRR_kwDO${r.id}`,
      user: simpleUser(r.user),
      body: r.body ?? "",
      state: r.state,
      html_url: `${repoHtml()}/pull/${p.number}#pullrequestreview-${r.id}`,
      pull_request_url: rv,
      author_association: associationOf(r.user),
      _links: { html: { href: `${repoHtml()}/pull/${p.number}#pullrequestreview-${r.id}` }, pull_request: { href: rv } },
      commit_id: r.commitId,
      ...(r.state === "PENDING" ? {} : { submitted_at: r.submittedAt ?? p.createdAt }),
    };
  }

  function integration(slug: string): Record<string, unknown> {
    return {
      id: 15368,
      slug,
      node_id: "MDM6QXBwMTUzNjg=",
      client_id: "Iv1.0000000000000000",
      owner: simpleUser("github"),
      name: slug === "github-actions" ? "GitHub Actions" : slug,
      description: "Automate your workflow from idea to production",
      external_url: "https://help.github.com/en/actions",
      html_url: `https://github.com/apps/${slug}`,
      created_at: "2018-07-30T09:30:17Z",
      updated_at: "2024-04-10T20:33:16Z",
      permissions: { checks: "write", contents: "write", metadata: "read", pull_requests: "write", statuses: "write" },
      events: ["check_run", "check_suite", "pull_request", "push"],
    };
  }

  function checkSuiteBody(s: FakeCheckSuite): Record<string, unknown> {
    const c = findCommit(s.headSha);
    return {
      id: s.id,
      node_id: `CS_kwDO${s.id}`,
      head_branch: s.headBranch,
      head_sha: s.headSha,
      status: s.status,
      conclusion: s.conclusion,
      url: `${repoApi()}/check-suites/${s.id}`,
      before: null,
      after: s.headSha,
      pull_requests: [],
      app: integration(s.app),
      repository: repoCore(),
      created_at: s.createdAt,
      updated_at: s.createdAt,
      head_commit: {
        id: s.headSha,
        tree_id: c ? treeSha(c.tree) : sha1(s.headSha),
        message: c?.message ?? "",
        timestamp: c?.date ?? s.createdAt,
        author: { name: c?.author ?? "Someone", email: "someone@users.noreply.example.com" },
        committer: { name: c?.committer ?? "Someone", email: "someone@users.noreply.example.com" },
      },
      latest_check_runs_count: state.checkRuns.filter((r) => r.headSha === s.headSha).length,
      check_runs_url: `${repoApi()}/check-suites/${s.id}/check-runs`,
      rerequestable: true,
      runs_rerequestable: true,
    };
  }

  function checkRunBody(r: FakeCheckRun): Record<string, unknown> {
    return {
      id: r.id,
      node_id: `CR_kwDO${r.id}`,
      head_sha: r.headSha,
      external_id: r.externalId,
      url: `${repoApi()}/check-runs/${r.id}`,
      html_url: `${repoHtml()}/runs/${r.id}`,
      details_url: r.detailsUrl,
      status: r.status,
      conclusion: r.conclusion,
      started_at: r.startedAt,
      completed_at: r.completedAt,
      output: {
        title: r.title,
        summary: r.summary,
        text: r.text,
        annotations_count: 0,
        annotations_url: `${repoApi()}/check-runs/${r.id}/annotations`,
      },
      name: r.name,
      check_suite: { id: 5000 + r.id },
      app: integration("github-actions"),
      pull_requests: [],
    };
  }

  function statusBody(s: FakeStatus): Record<string, unknown> {
    const creator = simpleUser(s.creator);
    return {
      url: `${repoApi()}/statuses/${s.sha}`,
      avatar_url: creator["avatar_url"],
      id: s.id,
      node_id: `SC_kwDO${s.id}`,
      state: s.state,
      description: s.description,
      target_url: s.targetUrl,
      context: s.context,
      created_at: s.createdAt,
      updated_at: s.createdAt,
      creator,
    };
  }

  function issueCommentBody(c: FakeIssueComment): Record<string, unknown> {
    return {
      id: c.id,
      node_id: `IC_kwDO${c.id}`,
      url: `${repoApi()}/issues/comments/${c.id}`,
      html_url: `${repoHtml()}/pull/${c.issueNumber}#issuecomment-${c.id}`,
      body: c.body,
      user: simpleUser(c.user),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      issue_url: `${repoApi()}/issues/${c.issueNumber}`,
      author_association: associationOf(c.user),
    };
  }

  function contentLinks(path: string, ref: string, sha: string, type: "file" | "dir") {
    const enc = path.split("/").map(encodeURIComponent).join("/");
    const self = `${repoApi()}/contents/${enc}?ref=${encodeURIComponent(ref)}`;
    const git = `${repoApi()}/git/${type === "file" ? "blobs" : "trees"}/${sha}`;
    const html = `${repoHtml()}/${type === "file" ? "blob" : "tree"}/${ref}/${enc}`;
    return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
  }

  function activityBody(a: FakeActivity): Record<string, unknown> {
    return {
      id: a.id,
      node_id: `AC_kwDO${a.id}`,
      before: a.before,
      after: a.after,
      ref: a.ref,
      timestamp: a.timestamp,
      activity_type: a.activityType,
      actor: simpleUser(a.actor),
    };
  }

  function rulesetMatches(rs: FakeRuleset, branch: string): boolean {
    const ref = `refs/heads/${branch}`;
    const match = (pattern: string): boolean => {
      if (pattern === "~ALL") return true;
      if (pattern === "~DEFAULT_BRANCH") return branch === state.repo.defaultBranch;
      const re = new RegExp(
        `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\u0000/g, ".*").replace(/\?/g, ".")}$`,
      );
      return re.test(ref) || re.test(branch);
    };
    return rs.include.some(match) && !(rs.exclude ?? []).some(match);
  }

  function rulesetBody(rs: FakeRuleset): Record<string, unknown> {
    return {
      id: rs.id,
      name: rs.name,
      target: "branch",
      source_type: "Repository",
      source: fullName(),
      enforcement: rs.enforcement,
      ...(rs.bypassActors ? { bypass_actors: rs.bypassActors, current_user_can_bypass: "never" } : {}),
      node_id: `RRS_lACkVXNlcs4A${rs.id}`,
      _links: {
        self: { href: `${repoApi()}/rulesets/${rs.id}` },
        html: { href: `${repoHtml()}/rules/${rs.id}` },
      },
      conditions: { ref_name: { include: rs.include, exclude: rs.exclude ?? [] } },
      rules: rs.rules,
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
    };
  }

  function protectionBody(branch: string, partial: Record<string, unknown>): Record<string, unknown> {
    const u = `${repoApi()}/branches/${encodeURIComponent(branch)}/protection`;
    const out: Record<string, unknown> = { url: u };
    const prr = partial["required_pull_request_reviews"];
    if (typeof prr === "object" && prr !== null) {
      out["required_pull_request_reviews"] = {
        url: `${u}/required_pull_request_reviews`,
        dismiss_stale_reviews: false,
        require_code_owner_reviews: false,
        required_approving_review_count: 1,
        require_last_push_approval: false,
        ...prr,
      };
    }
    const rsc = partial["required_status_checks"];
    if (typeof rsc === "object" && rsc !== null) {
      const contexts = ((rsc as { contexts?: string[] }).contexts ?? []) as string[];
      out["required_status_checks"] = {
        url: `${u}/required_status_checks`,
        strict: true,
        contexts,
        contexts_url: `${u}/required_status_checks/contexts`,
        checks: contexts.map((context) => ({ context, app_id: null })),
        ...rsc,
      };
    }
    const admins = partial["enforce_admins"];
    out["enforce_admins"] = { url: `${u}/enforce_admins`, enabled: admins === true || (typeof admins === "object" && admins !== null && (admins as { enabled?: boolean }).enabled === true) };
    for (const [k, v] of Object.entries(partial)) {
      if (!(k in out)) out[k] = v;
    }
    return out;
  }

  // ------------------------------------------------------------ pagination

  function paginated(ctx: Ctx, pathForLinks: string, all: unknown[], wrap?: (page: unknown[]) => unknown): Reply {
    const cap = state.listCaps[ctx.template];
    const items = cap === undefined ? all : all.slice(0, cap);
    const perPage = Math.min(Math.max(Number(ctx.query["per_page"] ?? 30) || 30, 1), 100);
    const page = Math.max(Number(ctx.query["page"] ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (items.length > perPage) {
      const link = (p: number): string => {
        const q = new URLSearchParams({ ...ctx.query, per_page: String(perPage), page: String(p) });
        return `<${api()}${pathForLinks}?${q.toString()}>`;
      };
      const parts: string[] = [];
      if (page > 1) parts.push(`${link(page - 1)}; rel="prev"`);
      if (page < last) parts.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
      if (page > 1) parts.push(`${link(1)}; rel="first"`);
      if (parts.length > 0) headers["link"] = parts.join(", ");
    }
    return { status: 200, body: wrap ? wrap(slice) : slice, headers };
  }

  // ------------------------------------------------------------ routes

  const mustPull = (n: string): FakePull => {
    const p = state.pulls.find((x) => x.number === Number(n));
    if (!p) throw new HttpError(404, "Not Found");
    return p;
  };
  const mustCommit = (ref: string): FakeCommit => {
    const c = resolveRef(ref);
    if (!c) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    return c;
  };
  const repoGuard = (ctx: Ctx): void => {
    if (ctx.params["owner"] !== state.repo.owner || ctx.params["repo"] !== state.repo.name) {
      throw new HttpError(404, "Not Found");
    }
  };
  const now = (): string => iso();

  type Handler = (ctx: Ctx, path: string) => Reply;
  const routes: Array<{ method: string; template: string; re: RegExp; names: string[]; handler: Handler }> = [];
  function route(method: string, template: string, handler: Handler, opts: { repo?: boolean } = {}): void {
    const names: string[] = [];
    const re = new RegExp(
      `^${template.replace(/\{([^}]+)\}|[^{]+/g, (m, name?: string) => {
        if (name === undefined) return m.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
        names.push(name);
        return MULTI_SEGMENT.has(name) ? "(.+?)" : "([^/]+)";
      })}$`,
    );
    const h: Handler = opts.repo === false ? handler : (ctx, path) => (repoGuard(ctx), handler(ctx, path));
    routes.push({ method, template, re, names, handler: h });
  }

  const R = "/repos/{owner}/{repo}";

  route("GET", R, () => ({ status: 200, body: fullRepository() }));

  route("GET", `${R}/pulls`, (ctx, path) => {
    const st = ctx.query["state"] ?? "open";
    const list = state.pulls
      .filter((p) => st === "all" || p.state === st)
      .filter((p) => !ctx.query["head"] || `${(p.head.repo ?? fullName()).split("/")[0]}:${p.head.ref}` === ctx.query["head"])
      .filter((p) => !ctx.query["base"] || p.base.ref === ctx.query["base"])
      .map(pullSimple);
    return paginated(ctx, path, list);
  });

  route("GET", `${R}/pulls/{pull_number}`, (ctx) => ({ status: 200, body: pullFull(mustPull(ctx.params["pull_number"] ?? "")) }));

  route("GET", `${R}/pulls/{pull_number}/reviews`, (ctx, path) => {
    const p = mustPull(ctx.params["pull_number"] ?? "");
    return paginated(ctx, path, p.reviews.map((r) => reviewBody(p, r)));
  });

  route("GET", `${R}/pulls/{pull_number}/commits`, (ctx, path) => {
    const p = mustPull(ctx.params["pull_number"] ?? "");
    // "Lists a maximum of 250 commits for a pull request."
    const list = p.commits.slice(0, 250).map((sha) => {
      const c = findCommit(sha);
      if (!c) throw new Error(`fake: PR #${p.number} lists unknown commit ${sha}`);
      return commitBody(c);
    });
    return paginated(ctx, path, list);
  });

  route("GET", `${R}/pulls/{pull_number}/files`, (ctx, path) => {
    const p = mustPull(ctx.params["pull_number"] ?? "");
    const { files, tree } = pullFiles(p);
    // "Responses include a maximum of 3000 files."
    return paginated(ctx, path, files.slice(0, 3000).map((f) => diffEntry(f, p.head.sha, tree[f.filename])));
  });

  route("GET", `${R}/commits/{commit_sha}/pulls`, (ctx, path) => {
    const sha = ctx.params["commit_sha"] ?? "";
    const c = mustCommit(sha);
    const list = state.pulls.filter((p) => p.mergeCommitSha === c.sha || p.commits.includes(c.sha)).map(pullSimple);
    return paginated(ctx, path, list);
  });

  route("GET", `${R}/commits/{ref}/check-suites`, (ctx, path) => {
    const c = mustCommit(ctx.params["ref"] ?? "");
    const suites = state.checkSuites
      .filter((s) => s.headSha === c.sha)
      .filter((s) => !ctx.query["app_id"] || String(15368) === ctx.query["app_id"])
      .map(checkSuiteBody);
    return paginated(ctx, path, suites, (page) => ({ total_count: suites.length, check_suites: page }));
  });

  route("GET", `${R}/commits/{ref}/check-runs`, (ctx, path) => {
    const c = mustCommit(ctx.params["ref"] ?? "");
    const runs = state.checkRuns
      .filter((r) => r.headSha === c.sha)
      .filter((r) => !ctx.query["check_name"] || r.name === ctx.query["check_name"])
      .map(checkRunBody);
    return paginated(ctx, path, runs, (page) => ({ total_count: runs.length, check_runs: page }));
  });

  route("GET", `${R}/commits/{ref}/statuses`, (ctx, path) => {
    const c = mustCommit(ctx.params["ref"] ?? "");
    return paginated(ctx, path, state.statuses.filter((s) => s.sha === c.sha).reverse().map(statusBody));
  });

  route("GET", `${R}/commits/{ref}`, (ctx) => {
    const c = resolveRef(ctx.params["ref"] ?? "");
    if (!c) throw new HttpError(422, `No commit found for SHA: ${ctx.params["ref"] ?? ""}`);
    const parent = c.parents[0] ? findCommit(c.parents[0]) : undefined;
    const files = treeDiff(parent?.tree ?? {}, c.tree);
    const additions = files.reduce((s, f) => s + (f.additions ?? 0), 0);
    const deletions = files.reduce((s, f) => s + (f.deletions ?? 0), 0);
    return {
      status: 200,
      body: {
        ...commitBody(c),
        stats: { additions, deletions, total: additions + deletions },
        files: files.map((f) => diffEntry(f, c.sha, c.tree[f.filename])),
      },
    };
  });

  route("GET", `${R}/compare/{basehead}`, (ctx) => {
    const [baseRef, headRef] = (ctx.params["basehead"] ?? "").split("...");
    const base = baseRef ? resolveRef(baseRef) : undefined;
    const head = headRef ? resolveRef(headRef) : undefined;
    if (!base || !head) throw new HttpError(404, "Not Found");
    const mb = mergeBase(base.sha, head.sha);
    const mbCommit = mb ? findCommit(mb) : undefined;
    if (!mbCommit) throw new HttpError(404, "No common ancestor between base and head.");
    const ofHead = ancestors(head.sha);
    const ofBase = ancestors(base.sha);
    const ahead = state.commits.filter((c) => ofHead.has(c.sha) && !ofBase.has(c.sha));
    const behind = state.commits.filter((c) => ofBase.has(c.sha) && !ofHead.has(c.sha));
    const status =
      ahead.length === 0 && behind.length === 0 ? "identical" : behind.length === 0 ? "ahead" : ahead.length === 0 ? "behind" : "diverged";
    // "it includes up to 300 changed files for the entire comparison"
    const files = treeDiff(mbCommit.tree, head.tree).slice(0, 300);
    const bh = `${baseRef}...${headRef}`;
    return {
      status: 200,
      body: {
        url: `${repoApi()}/compare/${bh}`,
        html_url: `${repoHtml()}/compare/${bh}`,
        permalink_url: `${repoHtml()}/compare/${state.repo.owner}:${base.sha.slice(0, 7)}...${state.repo.owner}:${head.sha.slice(0, 7)}`,
        diff_url: `${repoHtml()}/compare/${bh}.diff`,
        patch_url: `${repoHtml()}/compare/${bh}.patch`,
        base_commit: commitBody(base),
        merge_base_commit: commitBody(mbCommit),
        status,
        ahead_by: ahead.length,
        behind_by: behind.length,
        total_commits: ahead.length,
        commits: ahead.slice(0, 250).map(commitBody),
        files: files.map((f) => diffEntry(f, head.sha, head.tree[f.filename])),
      },
    };
  });

  route("GET", `${R}/git/trees/{tree_sha}`, (ctx) => {
    const c = resolveRef(ctx.params["tree_sha"] ?? "") ?? state.commits.find((x) => treeSha(x.tree) === ctx.params["tree_sha"]);
    if (!c) throw new HttpError(404, "Not Found");
    const recursive = ctx.query["recursive"] !== undefined;
    const entries: Record<string, unknown>[] = [];
    const dirs = new Set<string>();
    for (const [path, content] of Object.entries(c.tree).sort()) {
      const parts = path.split("/");
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
      if (!recursive && parts.length > 1) continue;
      const sha = gitBlobSha(content);
      entries.push({ path, mode: "100644", type: "blob", sha, size: Buffer.byteLength(content), url: `${repoApi()}/git/blobs/${sha}` });
    }
    for (const d of [...dirs].sort()) {
      if (!recursive && d.includes("/")) continue;
      const sha = sha1(`tree ${c.sha} ${d}`);
      entries.push({ path: d, mode: "040000", type: "tree", sha, url: `${repoApi()}/git/trees/${sha}` });
    }
    entries.sort((a, b) => String(a["path"]).localeCompare(String(b["path"])));
    const ts = treeSha(c.tree);
    return { status: 200, body: { sha: ts, url: `${repoApi()}/git/trees/${ts}`, tree: entries, truncated: false } };
  });

  route("GET", `${R}/git/blobs/{file_sha}`, (ctx) => {
    const want = ctx.params["file_sha"] ?? "";
    for (const c of state.commits) {
      for (const content of Object.values(c.tree)) {
        if (gitBlobSha(content) === want) {
          return {
            status: 200,
            body: {
              sha: want,
              node_id: `B_kwDO${want.slice(0, 12)}`,
              size: Buffer.byteLength(content),
              url: `${repoApi()}/git/blobs/${want}`,
              content: base64Wrapped(content),
              encoding: "base64",
            },
          };
        }
      }
    }
    throw new HttpError(404, "Not Found");
  });

  route("GET", `${R}/contents/{path}`, (ctx) => {
    const ref = ctx.query["ref"] ?? state.repo.defaultBranch;
    const c = resolveRef(ref);
    if (!c) throw new HttpError(404, `No commit found for the ref ${ref}`);
    const path = (ctx.params["path"] ?? "").replace(/^\/+|\/+$/g, "");
    const content = c.tree[path];
    if (content !== undefined) {
      const size = Buffer.byteLength(content);
      const sha = gitBlobSha(content);
      // Contents API: above 1 MB, "the content field will be an empty string and the encoding field will be none".
      const big = size > 1024 * 1024;
      return {
        status: 200,
        body: {
          type: "file",
          encoding: big ? "none" : "base64",
          size,
          name: path.split("/").pop(),
          path,
          content: big ? "" : base64Wrapped(content),
          sha,
          download_url: `https://raw.githubusercontent.com/${fullName()}/${ref}/${path}`,
          ...contentLinks(path, ref, sha, "file"),
        },
      };
    }
    const prefix = path === "" ? "" : `${path}/`;
    const children = new Map<string, "file" | "dir">();
    for (const p of Object.keys(c.tree)) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length).split("/");
      const name = rest[0] ?? "";
      children.set(name, rest.length > 1 ? "dir" : (children.get(name) ?? "file"));
    }
    if (children.size === 0) throw new HttpError(404, "Not Found");
    const list = [...children.entries()].sort().map(([name, type]) => {
      const childPath = `${prefix}${name}`;
      const fileContent = c.tree[childPath];
      const sha = type === "file" && fileContent !== undefined ? gitBlobSha(fileContent) : sha1(`tree ${c.sha} ${childPath}`);
      return {
        type,
        size: type === "file" && fileContent !== undefined ? Buffer.byteLength(fileContent) : 0,
        name,
        path: childPath,
        sha,
        download_url: type === "file" ? `https://raw.githubusercontent.com/${fullName()}/${ref}/${childPath}` : null,
        ...contentLinks(childPath, ref, sha, type),
      };
    });
    return { status: 200, body: list };
  });

  route("GET", `${R}/activity`, (ctx, path) => {
    const ref = ctx.query["ref"];
    const wantRef = ref === undefined ? undefined : ref.startsWith("refs/") ? ref : `refs/heads/${ref}`;
    let list = state.activities
      .filter((a) => wantRef === undefined || a.ref === wantRef)
      .filter((a) => !ctx.query["activity_type"] || a.activityType === ctx.query["activity_type"])
      .filter((a) => !ctx.query["actor"] || a.actor === ctx.query["actor"])
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.id - b.id);
    if ((ctx.query["direction"] ?? "desc") === "desc") list = list.reverse();
    return paginated(ctx, path, list.map(activityBody));
  });

  route("GET", `${R}/issues/{issue_number}/timeline`, (ctx, path) =>
    paginated(ctx, path, state.timeline[Number(ctx.params["issue_number"])] ?? []),
  );

  route("GET", `${R}/issues/{issue_number}/comments`, (ctx, path) => {
    const n = Number(ctx.params["issue_number"]);
    return paginated(ctx, path, state.issueComments.filter((c) => c.issueNumber === n).map(issueCommentBody));
  });

  route("POST", `${R}/issues/{issue_number}/comments`, (ctx) => {
    const n = Number(ctx.params["issue_number"]);
    const body = (ctx.body as { body?: unknown } | null)?.body;
    if (typeof body !== "string" || body === "") throw new HttpError(422, "Validation Failed");
    if (!state.pulls.some((p) => p.number === n)) throw new HttpError(404, "Not Found");
    const c: FakeIssueComment = { id: id(), issueNumber: n, user: "github-actions[bot]", body, createdAt: now(), updatedAt: now() };
    state.issueComments.push(c);
    return { status: 201, body: issueCommentBody(c), headers: { location: `${repoApi()}/issues/comments/${c.id}` } };
  });

  route("GET", `${R}/issues/comments/{comment_id}`, (ctx) => {
    const c = state.issueComments.find((x) => x.id === Number(ctx.params["comment_id"]));
    if (!c) throw new HttpError(404, "Not Found");
    return { status: 200, body: issueCommentBody(c) };
  });

  route("PATCH", `${R}/issues/comments/{comment_id}`, (ctx) => {
    const c = state.issueComments.find((x) => x.id === Number(ctx.params["comment_id"]));
    if (!c) throw new HttpError(404, "Not Found");
    const body = (ctx.body as { body?: unknown } | null)?.body;
    if (typeof body !== "string") throw new HttpError(422, "Validation Failed");
    c.body = body;
    c.updatedAt = now();
    return { status: 200, body: issueCommentBody(c) };
  });

  route("POST", `${R}/statuses/{sha}`, (ctx) => {
    const c = mustCommit(ctx.params["sha"] ?? "");
    const b = (ctx.body ?? {}) as Record<string, unknown>;
    const st = b["state"];
    if (st !== "error" && st !== "failure" && st !== "pending" && st !== "success") throw new HttpError(422, "Validation Failed");
    const s: FakeStatus = {
      id: id(),
      sha: c.sha,
      state: st,
      context: typeof b["context"] === "string" ? b["context"] : "default",
      description: typeof b["description"] === "string" ? b["description"] : null,
      targetUrl: typeof b["target_url"] === "string" ? b["target_url"] : null,
      creator: "github-actions[bot]",
      createdAt: now(),
    };
    state.statuses.push(s);
    return { status: 201, body: statusBody(s), headers: { location: `${repoApi()}/statuses/${c.sha}` } };
  });

  route("POST", `${R}/check-runs`, (ctx) => {
    const b = (ctx.body ?? {}) as Record<string, unknown>;
    if (typeof b["name"] !== "string" || typeof b["head_sha"] !== "string") throw new HttpError(422, "Validation Failed");
    const output = (b["output"] ?? {}) as Record<string, unknown>;
    const conclusion = typeof b["conclusion"] === "string" ? (b["conclusion"] as FakeCheckRun["conclusion"]) : null;
    const r: FakeCheckRun = {
      id: id(),
      name: b["name"],
      headSha: b["head_sha"],
      status: conclusion ? "completed" : ((b["status"] as FakeCheckRun["status"] | undefined) ?? "queued"),
      conclusion,
      title: typeof output["title"] === "string" ? output["title"] : null,
      summary: typeof output["summary"] === "string" ? output["summary"] : null,
      text: typeof output["text"] === "string" ? output["text"] : null,
      detailsUrl: typeof b["details_url"] === "string" ? b["details_url"] : null,
      externalId: typeof b["external_id"] === "string" ? b["external_id"] : null,
      startedAt: typeof b["started_at"] === "string" ? b["started_at"] : now(),
      completedAt: conclusion ? (typeof b["completed_at"] === "string" ? b["completed_at"] : now()) : null,
    };
    state.checkRuns.push(r);
    return { status: 201, body: checkRunBody(r) };
  });

  route("GET", `${R}/collaborators/{username}/permission`, (ctx) => {
    const login = ctx.params["username"] ?? "";
    const role = state.collaborators[login];
    const rank = ["read", "triage", "write", "maintain", "admin"];
    const level = role === undefined ? -1 : rank.indexOf(role);
    // The legacy `permission` field folds maintain into write and triage into read.
    const legacy = role === undefined ? (state.repo.private ? "none" : "read") : role === "maintain" ? "write" : role === "triage" ? "read" : role;
    const roleName = role ?? (state.repo.private ? "none" : "read");
    return {
      status: 200,
      body: {
        permission: legacy,
        role_name: roleName,
        user: {
          ...simpleUser(login),
          permissions: { admin: level >= 4, maintain: level >= 3, push: level >= 2, triage: level >= 1, pull: level >= 0 || !state.repo.private },
          role_name: roleName,
        },
      },
    };
  });

  // REST "List repository collaborators": `role_name` is the highest role over every grant; the
  // `permissions` hash the base role (the fake has one role per user: both agree). `affiliation`
  // outside/direct/all all list everyone here (the fake has no organization base role).
  route("GET", `${R}/collaborators`, (ctx, path) => {
    if (state.collaboratorList === "forbidden") throw new HttpError(403, "Must have push access to view repository collaborators.");
    const rank = ["read", "triage", "write", "maintain", "admin"];
    const want = ctx.query["permission"];
    const list = Object.entries(state.collaborators)
      .filter(([, role]) => want === undefined || rank.indexOf(role) >= rank.indexOf(want === "push" ? "write" : want === "pull" ? "read" : want))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([login, role]) => {
        const level = rank.indexOf(role);
        return {
          ...simpleUser(login),
          permissions: { admin: level >= 4, maintain: level >= 3, push: level >= 2, triage: level >= 1, pull: level >= 0 },
          role_name: role,
        };
      });
    return paginated(ctx, path, list);
  });

  route("GET", `${R}/rules/branches/{branch}`, (ctx, path) => {
    const branch = ctx.params["branch"] ?? "";
    const rules = state.rulesets
      .filter((rs) => rs.enforcement === "active" && rulesetMatches(rs, branch))
      .flatMap((rs) => rs.rules.map((r) => ({ ...r, ruleset_source_type: "Repository", ruleset_source: fullName(), ruleset_id: rs.id })));
    return paginated(ctx, path, rules);
  });

  // "Get all repository rulesets" lists summaries: GitHub's example has no rules, conditions or bypass actors.
  route("GET", `${R}/rulesets`, (ctx, path) =>
    paginated(
      ctx,
      path,
      state.rulesets.map((rs) => {
        const { id: rid, name, source_type, source, enforcement, node_id, _links, created_at, updated_at } = rulesetBody(rs);
        return { id: rid, name, source_type, source, enforcement, node_id, _links, created_at, updated_at };
      }),
    ),
  );

  /**
   * The request body of "Create a repository ruleset" / "Update a repository ruleset", checked
   * against GitHub's request schema (its properties are these six, each a component schema or a
   * list of them; POST requires name and enforcement). Unknown properties are reported too: GitHub
   * would ignore them silently. A bad body is drift (close() throws) and answered 422.
   */
  function rulesetRequestErrors(body: unknown, create: boolean): string[] {
    if (typeof body !== "object" || body === null || Array.isArray(body)) return ["request body: not an object"];
    const b = body as Record<string, unknown>;
    const errors: string[] = [];
    const component = (name: string, v: unknown, at: string) =>
      errors.push(...validator.validateComponent(name, v).errors.map((e) => `request body ${at}: ${e}`));
    const list = (name: string, v: unknown, at: string) => {
      if (!Array.isArray(v)) errors.push(`request body ${at}: not an array`);
      else v.forEach((x, i) => component(name, x, `${at}/${i}`));
    };
    for (const key of Object.keys(b)) {
      if (!["name", "target", "enforcement", "bypass_actors", "conditions", "rules"].includes(key)) errors.push(`request body: property ${key} is not in GitHub's request schema`);
    }
    if (create) for (const key of ["name", "enforcement"]) if (!(key in b)) errors.push(`request body: ${key} is required`);
    if ("name" in b && typeof b["name"] !== "string") errors.push("request body /name: not a string");
    if ("target" in b && !["branch", "tag", "push"].includes(b["target"] as string)) errors.push("request body /target: not branch, tag or push");
    if ("enforcement" in b) component("repository-rule-enforcement", b["enforcement"], "/enforcement");
    if ("bypass_actors" in b) list("repository-ruleset-bypass-actor", b["bypass_actors"], "/bypass_actors");
    if ("conditions" in b) component("repository-ruleset-conditions", b["conditions"], "/conditions");
    if ("rules" in b) list("repository-rule", b["rules"], "/rules");
    return errors;
  }

  function applyRulesetBody(ctx: Ctx, rs: FakeRuleset | undefined): FakeRuleset {
    const errors = rulesetRequestErrors(ctx.body, rs === undefined);
    if (errors.length > 0) {
      drift.push({ method: ctx.method, route: ctx.template, status: 422, errors });
      throw new HttpError(422, "Validation Failed");
    }
    const b = ctx.body as Record<string, unknown>;
    const refName = (b["conditions"] as { ref_name?: { include?: string[]; exclude?: string[] } } | undefined)?.ref_name;
    const name = typeof b["name"] === "string" ? b["name"] : rs?.name ?? "";
    if (state.rulesets.some((x) => x !== rs && x.name === name)) throw new HttpError(422, "Validation Failed: Name must be unique");
    const out: FakeRuleset = rs ?? { id: id(), name, enforcement: "disabled", include: [], rules: [], bypassActors: [] };
    out.name = name;
    if (b["enforcement"] !== undefined) out.enforcement = b["enforcement"] as FakeRuleset["enforcement"];
    if (refName) {
      out.include = refName.include ?? [];
      out.exclude = refName.exclude ?? [];
    }
    if (b["rules"] !== undefined) out.rules = b["rules"] as FakeRuleset["rules"];
    // The writer may administer the ruleset, so from now on its bypass actors are visible.
    if (b["bypass_actors"] !== undefined) out.bypassActors = b["bypass_actors"] as NonNullable<FakeRuleset["bypassActors"]>;
    else out.bypassActors ??= [];
    if (!rs) state.rulesets.push(out);
    return out;
  }

  route("POST", `${R}/rulesets`, (ctx) => ({ status: 201, body: rulesetBody(applyRulesetBody(ctx, undefined)) }));

  route("PUT", `${R}/rulesets/{ruleset_id}`, (ctx) => {
    const rs = state.rulesets.find((r) => r.id === Number(ctx.params["ruleset_id"]));
    if (!rs) throw new HttpError(404, "Not Found");
    return { status: 200, body: rulesetBody(applyRulesetBody(ctx, rs)) };
  });

  route("GET", `${R}/rulesets/{ruleset_id}`, (ctx) => {
    const rs = state.rulesets.find((r) => r.id === Number(ctx.params["ruleset_id"]));
    if (!rs) throw new HttpError(404, "Not Found");
    return { status: 200, body: rulesetBody(rs) };
  });

  const mustEnvironment = (ctx: Ctx) => {
    const name = ctx.params["environment_name"] ?? "";
    const env = state.environments[name];
    if (!env) throw new HttpError(404, "Not Found");
    return { name, env };
  };

  route("GET", `${R}/environments/{environment_name}`, (ctx) => {
    const { name, env } = mustEnvironment(ctx);
    const envId = 7000 + Object.keys(state.environments).indexOf(name);
    const at = iso(Date.UTC(2026, 0, 1));
    return {
      status: 200,
      body: {
        id: envId,
        node_id: `EN_kwDO${envId}`,
        name,
        url: `${api()}/repos/${fullName()}/environments/${encodeURIComponent(name)}`,
        html_url: `https://github.com/${fullName()}/deployments/activity_log?environments_filter=${encodeURIComponent(name)}`,
        created_at: at,
        updated_at: at,
        protection_rules: [],
        deployment_branch_policy:
          env.policy === null ? null : { protected_branches: env.policy === "protected", custom_branch_policies: env.policy !== "protected" },
      },
    };
  });

  route("GET", `${R}/environments/{environment_name}/deployment-branch-policies`, (ctx, path) => {
    const { env } = mustEnvironment(ctx);
    const list = (Array.isArray(env.policy) ? env.policy : []).map((name, i) => ({ id: 361471 + i, node_id: `MDE2OkdhdGVCcmFuY2hQb2xpY3kz${i}`, name, type: "branch" }));
    return paginated(ctx, path, list, (page) => ({ total_count: list.length, branch_policies: page }));
  });

  route("GET", `${R}/branches/{branch}/protection`, (ctx) => {
    const branch = ctx.params["branch"] ?? "";
    const p = state.protections[branch];
    if (p === "forbidden") throw new HttpError(403, "Resource not accessible by integration");
    if (!p) throw new HttpError(404, "Branch not protected");
    return { status: 200, body: protectionBody(branch, p) };
  });

  const mustTeam = (ctx: Ctx): FakeTeam => {
    const t = state.teams.find((x) => x.org === ctx.params["org"] && x.slug === ctx.params["team_slug"]);
    if (!t) throw new HttpError(404, "Not Found");
    return t;
  };

  route(
    "GET",
    "/orgs/{org}/teams/{team_slug}",
    (ctx) => {
      const t = mustTeam(ctx);
      const org = ctx.params["org"] ?? "";
      const u = `${api()}/organizations/${state.repo.id}/team/${t.id}`;
      return {
        status: 200,
        body: {
          id: t.id,
          node_id: `T_kwDO${t.id}`,
          url: u,
          html_url: `https://github.com/orgs/${org}/teams/${t.slug}`,
          name: t.name ?? t.slug,
          slug: t.slug,
          description: null,
          privacy: "closed",
          notification_setting: "notifications_enabled",
          permission: "pull",
          members_url: `${u}/members{/member}`,
          repositories_url: `${u}/repos`,
          type: "organization",
          parent: null,
          members_count: Object.values(t.members).filter((m) => m.state === "active").length,
          repos_count: 1,
          created_at: "2024-01-01T00:00:00Z",
          updated_at: "2024-01-01T00:00:00Z",
          organization: {
            login: org,
            id: 9000,
            node_id: "O_kgDO9000",
            url: `${api()}/orgs/${org}`,
            repos_url: `${api()}/orgs/${org}/repos`,
            events_url: `${api()}/orgs/${org}/events`,
            hooks_url: `${api()}/orgs/${org}/hooks`,
            issues_url: `${api()}/orgs/${org}/issues`,
            members_url: `${api()}/orgs/${org}/members{/member}`,
            public_members_url: `${api()}/orgs/${org}/public_members{/member}`,
            avatar_url: "https://avatars.githubusercontent.com/u/9000?v=4",
            description: null,
            html_url: `https://github.com/${org}`,
            has_organization_projects: true,
            has_repository_projects: true,
            public_repos: 1,
            public_gists: 0,
            followers: 0,
            following: 0,
            type: "Organization",
            created_at: "2020-01-01T00:00:00Z",
            updated_at: "2024-01-01T00:00:00Z",
            archived_at: null,
          },
        },
      };
    },
    { repo: false },
  );

  route(
    "GET",
    "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    (ctx) => {
      const t = mustTeam(ctx);
      const login = ctx.params["username"] ?? "";
      const m = t.members[login];
      if (!m) throw new HttpError(404, "Not Found");
      return {
        status: 200,
        body: { url: `${api()}/organizations/9000/team/${t.id}/memberships/${encodeURIComponent(login)}`, role: m.role, state: m.state },
      };
    },
    { repo: false },
  );

  route(
    "GET",
    "/orgs/{org}/teams/{team_slug}/members",
    (ctx, path) => {
      const t = mustTeam(ctx);
      const role = ctx.query["role"] ?? "all";
      const list = Object.entries(t.members)
        .filter(([, m]) => m.state === "active" && (role === "all" || m.role === role))
        .map(([login]) => simpleUser(login));
      return paginated(ctx, path, list);
    },
    { repo: false },
  );

  // ------------------------------------------------------------ server

  function errorBody(status: number, message: string): Record<string, unknown> {
    return { message, documentation_url: "https://docs.github.com/rest", status: String(status) };
  }

  function rateHeaders(): Record<string, string> {
    const rl = state.rateLimit;
    return {
      "x-ratelimit-limit": String(rl.limit),
      "x-ratelimit-remaining": String(rl.remaining),
      "x-ratelimit-used": String(rl.used),
      "x-ratelimit-reset": String(rl.reset),
      "x-ratelimit-resource": "core",
    };
  }

  /** Validates what is about to be served; undocumented error statuses as `basic-error`. */
  function check(method: string, template: string, status: number, body: unknown): string[] {
    const m = method.toLowerCase() as HttpMethod;
    if (validator.documentsStatus(m, template, status)) return validator.validate(m, template, status, body).errors;
    if (status >= 400) return validator.validateComponent("basic-error", body).errors;
    return [`status ${status} is not documented for ${method} ${template}`];
  }

  function matchFault(method: string, template: string | null, path: string): Fault | undefined {
    for (const f of faults) {
      if (f.method && f.method.toUpperCase() !== method) continue;
      if (f.route !== undefined) {
        if (typeof f.route === "string" ? f.route !== template : !f.route.test(path)) continue;
      }
      if ((f.times ?? 1) <= 0) continue;
      if ((f.skip ?? 0) > 0) {
        f.skip = (f.skip ?? 0) - 1;
        continue;
      }
      f.times = (f.times ?? 1) - 1;
      return f;
    }
    return undefined;
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length === 0) return undefined;
    const text = Buffer.concat(chunks).toString("utf8");
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", origin);
    const query = Object.fromEntries(url.searchParams.entries());
    const body = await readBody(req);
    let path = url.pathname;
    const entry: LoggedRequest = {
      method,
      path,
      route: null,
      query,
      status: 0,
      authorization: req.headers["authorization"],
      userAgent: req.headers["user-agent"],
      apiVersion: req.headers["x-github-api-version"] as string | undefined,
      body,
    };
    requests.push(entry);

    const send = (reply: Reply, template: string | null): void => {
      const headers: Record<string, string> = {
        "content-type": "application/json; charset=utf-8",
        "x-github-request-id": `FAKE:${requests.length.toString(16).toUpperCase()}:${Date.now().toString(16).toUpperCase()}`,
        "x-github-api-version-selected": "2022-11-28",
        ...rateHeaders(),
        ...reply.headers,
      };
      let status = reply.status;
      let payload = reply.body;
      const errors =
        template === null ? validator.validateComponent("basic-error", payload).errors : check(method, template, status, payload);
      if (errors.length > 0) {
        drift.push({ method, route: template ?? path, status, errors });
        payload = errorBody(599, `github-fake: response does not match GitHub's OpenAPI description: ${errors.slice(0, 5).join("; ")}`);
        status = 599;
      }
      entry.status = status;
      res.writeHead(status, headers);
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };

    if (basePath && !path.startsWith(`${basePath}/`) && path !== basePath) {
      send({ status: 404, body: errorBody(404, "Not Found") }, null);
      return;
    }
    path = path.slice(basePath.length) || "/";
    entry.path = path;
    const found = routes
      .filter((r) => r.method === method)
      .map((r) => ({ r, m: r.re.exec(path) }))
      .find((x) => x.m !== null);
    const template = found ? found.r.template : null;
    entry.route = template;

    if (options.token !== undefined) {
      const auth = req.headers["authorization"] ?? "";
      if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}` && auth !== `bearer ${options.token}`) {
        send({ status: 401, body: errorBody(401, "Bad credentials") }, template);
        return;
      }
    }

    // Rate limit accounting, as GitHub's primary limit: a request past the limit gets 403 with remaining 0.
    const rl = state.rateLimit;
    const nowS = Math.floor(Date.now() / 1000);
    if (nowS >= rl.reset) {
      rl.remaining = rl.limit;
      rl.used = 0;
      rl.reset = nowS + 3600;
    }
    if (rl.remaining <= 0) {
      send(
        {
          status: 403,
          body: errorBody(403, "API rate limit exceeded for installation."),
        },
        template,
      );
      return;
    }
    rl.remaining--;
    rl.used++;

    const fault = matchFault(method, template, path);
    if (fault) {
      if (fault.status === "reset") {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      if (fault.status === "hang") {
        entry.status = 0;
        return; // close() ends the connection
      }
      const message =
        fault.status === 404 ? "Not Found" : fault.status >= 500 ? "Server Error" : fault.status === 403 || fault.status === 429 ? "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." : "Fault";
      send({ status: fault.status, body: fault.body ?? errorBody(fault.status, message), headers: fault.headers ?? {} }, template);
      return;
    }

    if (!found || !found.m) {
      send({ status: 404, body: errorBody(404, "Not Found") }, null);
      return;
    }
    const params: Record<string, string> = {};
    found.r.names.forEach((n, i) => {
      params[n] = decodeURIComponent(found.m?.[i + 1] ?? "");
    });
    try {
      send(found.r.handler({ method, template: found.r.template, params, query, body }, path), template);
    } catch (e) {
      if (e instanceof HttpError) {
        send({ status: e.status, body: errorBody(e.status, e.message), headers: e.headers }, template);
        return;
      }
      drift.push({ method, route: template ?? path, status: 500, errors: [`fake handler threw: ${String(e)}`] });
      entry.status = 599;
      res.writeHead(599, { "content-type": "application/json" });
      res.end(JSON.stringify(errorBody(599, `github-fake: handler threw: ${String(e)}`)));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      drift.push({ method: req.method ?? "?", route: req.url ?? "?", status: 500, errors: [String(e)] });
      if (!res.headersSent) res.writeHead(599);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // ------------------------------------------------------------ builders

  function commit(opts: Parameters<GitHubFake["commit"]>[0]): FakeCommit {
    const parent = opts.parent ? findCommit(opts.parent) : undefined;
    if (opts.parent && !parent) throw new Error(`fake.commit: unknown parent ${opts.parent}`);
    const tree: Record<string, string> = { ...(parent?.tree ?? {}) };
    for (const [p, content] of Object.entries(opts.files)) {
      if (content === null) delete tree[p];
      else tree[p] = content;
    }
    const author = opts.author === undefined ? "alice" : opts.author;
    const committer = opts.committer === undefined ? author : opts.committer;
    if (author) user(author);
    if (committer) user(committer);
    const date = opts.date ?? iso(Date.parse("2024-05-01T08:00:00Z") + state.commits.length * 60_000);
    const message = opts.message ?? `Commit ${state.commits.length + 1}`;
    const sha = sha1(JSON.stringify({ parent: opts.parent ?? null, tree, message, author, date, n: state.commits.length }));
    const c: FakeCommit = { sha, parents: parent ? [parent.sha] : [], message, author, committer, date, tree };
    state.commits.push(c);
    return c;
  }

  function push(branch: string, sha: string, opts: { actor?: string; at?: string; force?: boolean } = {}): FakeActivity {
    const before = state.branches[branch];
    state.branches[branch] = sha;
    const a: FakeActivity = {
      id: id(),
      ref: `refs/heads/${branch}`,
      before: before ?? "0".repeat(40),
      after: sha,
      activityType: before === undefined ? "branch_creation" : opts.force ? "force_push" : "push",
      actor: opts.actor ?? "alice",
      timestamp: opts.at ?? iso(),
    };
    user(a.actor);
    state.activities.push(a);
    return a;
  }

  return {
    url: api(),
    state,
    faults,
    requests,
    drift,
    validator,
    commit,
    push,
    user,
    pull(p) {
      const merged = p.merged ?? false;
      const full: FakePull = {
        title: `Newsletter #${p.number}`,
        user: "alice",
        state: merged ? "closed" : "open",
        merged,
        mergeCommitSha: null,
        mergedAt: null,
        commits: [p.head.sha],
        reviews: [],
        createdAt: "2024-05-01T08:00:00Z",
        ...p,
      };
      user(full.user);
      state.pulls.push(full);
      return full;
    },
    fail(routeOrRe, status, opts = {}) {
      faults.push({ ...opts, route: routeOrRe, status });
    },
    count(template) {
      return template === undefined ? requests.length : requests.filter((r) => r.route === template).length;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      if (drift.length > 0) {
        throw new Error(
          `github-fake served ${drift.length} response(s) that do not match GitHub's OpenAPI description:\n${drift
            .map((d) => `  ${d.method} ${d.route} ${d.status}: ${d.errors.slice(0, 5).join("; ")}`)
            .join("\n")}`,
        );
      }
    },
  };
}
