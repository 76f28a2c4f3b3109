/**
 * A hand-made GatePort over plain fields, for the gate rules' tests. Every
 * answer comes from `data`; a question the data has no answer for throws (so
 * a test never passes on a default it did not mean). `forbid` lists calls
 * that must not happen: they are recorded in `violations` and throw. `fail`
 * makes a method throw the given error (a truncated list, an API error).
 */
import type {
  BranchRules,
  CommitChange,
  GatePort,
  GatePortMethod,
  Permission,
  PrCommit,
  PrFile,
  PullRequest,
  Review,
  TeamMembership,
} from "../../src/gate/index.ts";

export interface FakeGateData {
  /** sha → PR numbers (GET /commits/{sha}/pulls). */
  commitPulls: Record<string, number[]>;
  pulls: Record<number, PullRequest>;
  reviews: Record<number, Review[]>;
  commits: Record<number, PrCommit[]>;
  files: Record<number, PrFile[]>;
  /** PR number → server time of the last push to its head. */
  lastPush: Record<number, string>;
  /** PR number → logins that pushed to its head branch. Missing: nobody but the logins of its commits' authors. */
  pushers?: Record<number, string[]>;
  /** sha → what the commit changed against its first parent. Missing: the merged PR's own files on its base (a clean merge). */
  commitChanges?: Record<string, CommitChange>;
  /** `${ref}:${path}` → file text. Missing: 404 (null). */
  filesAtRef: Record<string, string>;
  /** "org/slug" → login (lowercase) → state. Missing: "none". */
  teams: Record<string, Record<string, Exclude<TeamMembership, "none">>>;
  /** login (lowercase) → permission. Missing: "none". */
  permissions: Record<string, Permission>;
  /** `${a}..${b}` → differing paths. */
  trees: Record<string, string[]>;
  branchRules: Record<string, BranchRules>;
}

export interface FakeOptions {
  /** Calls that must not happen. */
  forbid?: readonly GatePortMethod[];
  /** Methods that throw this error. */
  fail?: Partial<Record<GatePortMethod, Error>>;
}

export class FakeGatePort implements GatePort {
  readonly calls: string[] = [];
  readonly violations: string[] = [];

  constructor(
    readonly data: FakeGateData,
    readonly options: FakeOptions = {},
  ) {}

  private enter(method: GatePortMethod, ...args: unknown[]): void {
    const call = `${method}(${args.map((a) => JSON.stringify(a)).join(", ")})`;
    this.calls.push(call);
    if (this.options.forbid?.includes(method)) {
      this.violations.push(call);
      throw new Error(`fake: ${call} must not happen`);
    }
    const err = this.options.fail?.[method];
    if (err) throw err;
  }

  private need<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new Error(`fake: no data for ${what}`);
    return value;
  }

  async pullsForCommit(sha: string): Promise<readonly number[]> {
    this.enter("pullsForCommit", sha);
    return this.data.commitPulls[sha] ?? [];
  }
  async pull(n: number): Promise<PullRequest> {
    this.enter("pull", n);
    return this.need(this.data.pulls[n], `pull ${n}`);
  }
  async reviews(n: number): Promise<readonly Review[]> {
    this.enter("reviews", n);
    return this.need(this.data.reviews[n], `reviews of ${n}`);
  }
  async commits(n: number): Promise<readonly PrCommit[]> {
    this.enter("commits", n);
    return this.need(this.data.commits[n], `commits of ${n}`);
  }
  async files(n: number): Promise<readonly PrFile[]> {
    this.enter("files", n);
    return this.need(this.data.files[n], `files of ${n}`);
  }
  async lastPushAt(n: number, headSha: string): Promise<string> {
    this.enter("lastPushAt", n, headSha);
    const pr = this.need(this.data.pulls[n], `pull ${n}`);
    if (pr.headSha !== headSha) throw new Error(`fake: lastPushAt asked for ${headSha}, head is ${pr.headSha}`);
    return this.need(this.data.lastPush[n], `last push of ${n}`);
  }
  async pushers(n: number): Promise<readonly string[]> {
    this.enter("pushers", n);
    const given = this.data.pushers?.[n];
    if (given) return given;
    const commits = this.need(this.data.commits[n], `commits of ${n}`);
    return [...new Set(commits.flatMap((c) => (c.authorLogin ? [c.authorLogin] : [])))];
  }
  async commitChange(sha: string): Promise<CommitChange> {
    this.enter("commitChange", sha);
    const given = this.data.commitChanges?.[sha];
    if (given) return given;
    const listed = this.data.commitPulls[sha];
    const merged = Object.values(this.data.pulls).find((p) => p.mergeCommitSha === sha || (listed?.length === 1 && listed[0] === p.number));
    if (!merged) throw new Error(`fake: no change of commit ${sha}`);
    const files = this.need(this.data.files[merged.number], `files of ${merged.number}`);
    const paths = [...new Set(files.flatMap((f) => (f.previousFilename ? [f.filename, f.previousFilename] : [f.filename])))].sort();
    return { sha, parents: [merged.baseSha, merged.headSha], paths };
  }
  async fileAtRef(path: string, ref: string): Promise<string | null> {
    this.enter("fileAtRef", path, ref);
    return this.data.filesAtRef[`${ref}:${path}`] ?? null;
  }
  async activeTeamMembers(org: string, slug: string, logins: readonly string[]): Promise<ReadonlySet<string>> {
    this.enter("activeTeamMembers", org, slug, logins);
    const team = this.data.teams[`${org}/${slug}`.toLowerCase()] ?? {};
    return new Set(logins.map((l) => l.toLowerCase()).filter((l) => team[l] === "active"));
  }
  async teamMembership(org: string, slug: string, login: string): Promise<TeamMembership> {
    this.enter("teamMembership", org, slug, login);
    return this.data.teams[`${org}/${slug}`.toLowerCase()]?.[login.toLowerCase()] ?? "none";
  }
  async permissions(logins: readonly string[]): Promise<ReadonlyMap<string, Permission>> {
    this.enter("permissions", logins);
    return new Map(logins.map((l) => [l.toLowerCase(), this.data.permissions[l.toLowerCase()] ?? "none"] as const));
  }
  async changedBetween(baseSha: string, headSha: string): Promise<readonly string[]> {
    this.enter("changedBetween", baseSha, headSha);
    return this.need(this.data.trees[`${baseSha}..${headSha}`], `tree diff ${baseSha}..${headSha}`);
  }
  async branchRules(branch: string): Promise<BranchRules> {
    this.enter("branchRules", branch);
    return this.need(this.data.branchRules[branch], `branch rules of ${branch}`);
  }
}
