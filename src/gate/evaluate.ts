/**
 * The approval gate's rules (docs/design.md, "The approval gate" and "What was
 * approved is what is sent"), rule by rule, over the narrow GatePort. Pure apart from the port: the
 * same answers give the same result.
 *
 * `gate --sha SHA` (the send): exactly one merged PR introduced SHA, and it
 * passes every rule. `gate --pr N`: a merged PR is checked the same way
 * against its merge commit; an open PR is checked for progress (everything but
 * the merge), so "2 of 3 approvals: waiting for release" can be shown on it.
 *
 * Failure: any port error, 404 or truncated list throws GateError (exit 2,
 * fail closed). A refusal is a result with `approved: false` (exit 1).
 *
 * Branch protection alone cannot express these rules: "Require review from
 * Code Owners" is satisfied by one owner, admins and bypass actors can merge
 * anyway, and GitHub can carry an approval forward to a new head commit.
 */
import { GateError, UsageError } from "../errors.ts";
import type { ResolvedConfig } from "../load/schema/config.ts";
import { classifyApprovals, type StageOwners } from "./approvals.ts";
import { branchRuleWarnings } from "./branch-rules.ts";
import { standingChangeRequests } from "./change-requests.ts";
import { CODEOWNERS_LOCATIONS, pickCodeowners, type PickedCodeowners } from "../codeowners/codeowners.ts";
import { codeOwnersOfChange, contentOnlyProblem, protectedPathProblems, touchedPaths, treeProblem } from "./files-check.ts";
import { loginKey, shortSha, timeOf } from "./identity.ts";
import { ownerResolver } from "./ownership.ts";
import { pullProblems, singlePull, type GateTarget } from "./pr-checks.ts";
import { guardPort } from "./port-guard.ts";
import type { GatePort, PrCommit } from "./port.ts";
import type { GateResult, NotCounted, Problem, Warning } from "./result.ts";
import { reviewerHistories } from "./reviews.ts";
import { assignStages } from "./stages.ts";

export interface GateInput {
  /** The commit to be sent (`gate --sha`). Exactly one of `sha` and `pr`. */
  readonly sha?: string;
  /** A pull request number (`gate --pr`). */
  readonly pr?: number;
  /**
   * The configuration read from the BASE branch (the PR may not change it:
   * gate-config-changed). Either given, or read through `configAt`.
   */
  readonly config?: ResolvedConfig;
  /**
   * Reads the configuration at a commit: called once, with the pull request's
   * base commit, or with the commit itself when no single pull request
   * introduced it (the stage names are still reported). run.ts reads it
   * through the same port, so the pull request is fetched once.
   */
  readonly configAt?: (ref: string) => Promise<ResolvedConfig>;
  readonly port: GatePort;
  /** Evaluation time, for the result and the audit record. */
  readonly now?: Date;
}

const SHA = /^[0-9a-f]{40}$/;

function targetOf(input: GateInput): GateTarget {
  if ((input.sha === undefined) === (input.pr === undefined)) {
    throw new UsageError("gate: give exactly one of --sha SHA and --pr N");
  }
  if (input.sha !== undefined) {
    const sha = input.sha.toLowerCase();
    if (!SHA.test(sha)) throw new UsageError(`gate: --sha must be a full 40-character commit SHA, got "${input.sha}"`);
    return { kind: "sha", sha };
  }
  const n = input.pr!;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`gate: --pr must be a pull request number, got ${n}`);
  return { kind: "pr", number: n };
}

/** CODEOWNERS as GitHub finds it on the base: the first existing location wins ("About code owners"). */
async function readCodeowners(port: GatePort, ref: string): Promise<PickedCodeowners | undefined> {
  const texts = new Map<string, string>();
  for (const location of CODEOWNERS_LOCATIONS) {
    const text = await port.fileAtRef(location, ref);
    if (text !== null) {
      texts.set(location, text);
      break;
    }
  }
  return pickCodeowners((path) => texts.get(path));
}

function commitProblems(commits: readonly PrCommit[]): { people: Set<string>; problems: Problem[] } {
  const people = new Set<string>();
  const unattributed: string[] = [];
  for (const c of commits) {
    if (c.authorLogin !== null) people.add(loginKey(c.authorLogin));
    if (c.committerLogin !== null) people.add(loginKey(c.committerLogin));
    if (c.authorLogin === null || c.committerLogin === null) unattributed.push(shortSha(c.sha));
  }
  const problems: Problem[] = [];
  if (unattributed.length > 0) {
    problems.push({
      code: "commit-unattributed",
      text:
        `commit${unattributed.length === 1 ? "" : "s"} ${unattributed.slice(0, 5).join(", ")}${unattributed.length > 5 ? ", ..." : ""} ` +
        `ha${unattributed.length === 1 ? "s an author or committer" : "ve authors or committers"} linked to no GitHub account, ` +
        `so the gate cannot verify that no approver wrote them (link the email address to the account, or re-author the commit)`,
    });
  }
  return { people, problems };
}

async function configOf(input: GateInput, ref: string): Promise<ResolvedConfig> {
  if (input.config !== undefined) return input.config;
  if (input.configAt !== undefined) return input.configAt(ref);
  throw new UsageError("gate: no configuration given (config or configAt)");
}

export async function evaluateGate(input: GateInput): Promise<GateResult> {
  const target = targetOf(input);
  if ((input.config === undefined) === (input.configAt === undefined)) {
    throw new UsageError("gate: give exactly one of config and configAt");
  }
  const port = guardPort(input.port);
  const evaluatedAt = (input.now ?? new Date()).toISOString();
  const stagesOf = (config: ResolvedConfig): StageOwners[] => config.approvals.stages.map((s) => ({ name: s.name, owners: [...s.owners] }));

  // Rule: exactly one PR introduced the commit.
  let prNumber: number;
  if (target.kind === "sha") {
    const found = singlePull(target.sha, await port.pullsForCommit(target.sha));
    if ("problem" in found) {
      // No pull request to take a base from: the stage names come from the commit itself.
      const config = await configOf(input, target.sha);
      const stageOwners = stagesOf(config);
      const ordered = config.approvals.ordered === true;
      return {
        approved: false,
        mode: "none",
        pr: null,
        headSha: null,
        ordered,
        evaluatedAt,
        stages: stageOwners.map((s) => ({ name: s.name, owners: s.owners, waiting: "no single pull request to approve" })),
        notCounted: [],
        problems: [found.problem],
        warnings: [],
      };
    }
    prNumber = found.pr;
  } else {
    prNumber = target.number;
  }

  const pr = await port.pull(prNumber);
  if (pr.number !== prNumber) {
    throw new GateError("invalid-response", `pull(${prNumber}) returned pull request #${pr.number}`, { operation: `pull(${prNumber})` });
  }
  const config = await configOf(input, pr.baseSha);
  const stageOwners = stagesOf(config);
  const ordered = config.approvals.ordered === true;
  // Rules: merged (for --sha), into the default branch, not from a fork.
  const { problems: prProblems, mergeSha } = pullProblems(pr, target);
  if (pr.merged && mergeSha === undefined) {
    throw new GateError("invalid-response", `pull request #${pr.number} is merged but has no merge commit SHA`, { operation: `pull(${prNumber})` });
  }

  // Rule: no forks. Refused at once: a fork's pushes are not in this repository's activity (no
  // last push to check approvals against), and nothing else could make it pass.
  if (prProblems.some((p) => p.code === "fork")) {
    return {
      approved: false,
      mode: pr.merged ? "merged" : "open",
      pr: pr.number,
      headSha: pr.headSha,
      ...(mergeSha !== undefined ? { mergeSha } : {}),
      author: pr.author.login,
      ordered,
      evaluatedAt,
      stages: stageOwners.map((s) => ({ name: s.name, owners: s.owners, waiting: "a pull request from a fork is never approved" })),
      notCounted: [],
      problems: prProblems,
      warnings: [],
    };
  }

  // One question after another: the client sends requests one at a time anyway ("Best practices
  // for using the REST API": make requests serially), and the first failure stops the run.
  const reviews = await port.reviews(pr.number);
  const commits = await port.commits(pr.number);
  // What the pull request changes: for a merged one, what its merge commit brought onto the
  // default branch (against the first parent: one request that also proves the content-only
  // rule on the tree that is sent); for an open one, its files. A rebase merge of several
  // commits puts only the last one on top of the first parent: then the PR's files are read too.
  const merged = pr.merged && mergeSha !== undefined ? await port.commitChange(mergeSha) : undefined;
  const mergeOfHead = merged !== undefined && (merged.parents[1] === pr.headSha || commits.length <= 1);
  const paths = [...new Set([...(merged?.paths ?? []), ...(mergeOfHead ? [] : touchedPaths(await port.files(pr.number)))])].sort();
  const lastPushIso = await port.lastPushAt(pr.number, pr.headSha);
  const pushers = new Set((await port.pushers(pr.number)).map(loginKey));
  const rules = await port.branchRules(pr.baseRef);
  const codeowners = await readCodeowners(port, pr.baseSha);
  const lastPushAt = timeOf(lastPushIso, `last push to the head of #${pr.number}`);

  const problems: Problem[] = [...prProblems];
  const warnings: Warning[] = [];

  // Rule: the PR did not change CODEOWNERS, .github/ or the gate configuration.
  problems.push(...protectedPathProblems(pr.number, paths));
  // Rule: content only; for a merged PR, everything outside its folders equals the first parent's tree.
  const notContent = contentOnlyProblem(
    merged !== undefined ? `the merge commit ${shortSha(merged.sha)} (against its first parent ${shortSha(merged.parents[0] ?? "none")})` : `pull request #${pr.number}`,
    paths,
  );
  if (notContent) problems.push(notContent);

  // Rule: the merged tree equals the reviewed head for the sent paths.
  if (pr.merged && mergeSha !== undefined && mergeSha !== pr.headSha) {
    const changed = await port.changedBetween(pr.headSha, mergeSha);
    const differs = treeProblem(pr.headSha, mergeSha, changed);
    if (differs) problems.push(differs);
  }

  // Rule: approvers authored or committed no commit (needs every commit attributed).
  const { people: commitPeople, problems: commitIssues } = commitProblems(commits);
  problems.push(...commitIssues);

  const owned = codeOwnersOfChange(codeowners, paths);
  problems.push(...owned.problems);
  warnings.push(...owned.warnings);

  // Rules: per review, then one distinct approver per stage (in order if configured).
  const histories = reviewerHistories(reviews);
  const resolver = ownerResolver(port);
  const classified = await classifyApprovals(histories, {
    authorLogin: pr.author.login,
    headSha: pr.headSha,
    lastPushAt,
    lastPushIso,
    commitPeople,
    pushers,
    stages: stageOwners,
    ordered,
    resolver,
  });
  const outcome = assignStages(stageOwners, classified.eligible, ordered);

  // Rule: no code owner's latest review requests changes.
  problems.push(...(await standingChangeRequests(histories, stageOwners, owned.owners, resolver)));

  warnings.push(...branchRuleWarnings(pr.baseRef, rules, stageOwners.length));

  const notCounted: NotCounted[] = [...classified.notCounted, ...outcome.notCounted].sort((a, b) =>
    a.reviewId !== b.reviewId ? a.reviewId - b.reviewId : (a.stage ?? "").localeCompare(b.stage ?? ""),
  );
  const allStages = outcome.stages.every((s) => s.approval !== undefined);
  return {
    approved: allStages && problems.length === 0,
    mode: pr.merged ? "merged" : "open",
    pr: pr.number,
    headSha: pr.headSha,
    ...(mergeSha !== undefined ? { mergeSha } : {}),
    author: pr.author.login,
    lastPushAt: lastPushIso,
    ordered,
    evaluatedAt,
    stages: outcome.stages,
    notCounted,
    problems,
    warnings,
  };
}
