/**
 * Rules about the pull request itself (docs/design.md, "The approval gate"):
 * exactly one merged PR introduced the commit, into the default
 * branch, from a branch of this repository. Pure.
 */
import { shortSha } from "./identity.ts";
import type { PullRequest } from "./port.ts";
import type { Problem } from "./result.ts";

/** "--sha": the commit to be sent; "--pr": a PR number, merged or open. */
export type GateTarget = { readonly kind: "sha"; readonly sha: string } | { readonly kind: "pr"; readonly number: number };

/**
 * The PR numbers GitHub associates with the commit → the one PR, or the
 * problem. REST "List pull requests associated with a commit" returns, for a
 * commit on the default branch, "the merged pull request that introduced the
 * commit"; none means a direct push, more than one is ambiguous and refused.
 */
export function singlePull(sha: string, numbers: readonly number[]): { pr: number } | { problem: Problem } {
  const unique = [...new Set(numbers)].sort((a, b) => a - b);
  if (unique.length === 0) {
    return { problem: { code: "no-pr", text: `no pull request introduced commit ${shortSha(sha)}: a direct push is never approved` } };
  }
  if (unique.length > 1) {
    return {
      problem: {
        code: "multiple-prs",
        text: `commit ${shortSha(sha)} belongs to ${unique.length} pull requests (${unique.map((n) => `#${n}`).join(", ")}); exactly one must have introduced it`,
      },
    };
  }
  return { pr: unique[0]! };
}

/** Problems with the PR as a whole; `mergeSha` is the merged commit to compare with the head, when there is one. */
export function pullProblems(pr: PullRequest, target: GateTarget): { problems: Problem[]; mergeSha: string | undefined } {
  const problems: Problem[] = [];
  let mergeSha: string | undefined;
  if (target.kind === "sha") {
    if (!pr.merged) {
      problems.push({ code: "not-merged", text: `pull request #${pr.number} is ${pr.state} and not merged; only a merged pull request can be sent` });
    } else if (pr.mergeCommitSha !== target.sha) {
      // merge_commit_sha is the base branch's tip after the merge, for all
      // three merge methods (REST "Get a pull request"): the commit to send.
      problems.push({
        code: "not-merge-commit",
        text: `commit ${shortSha(target.sha)} is not what merging #${pr.number} produced (${shortSha(pr.mergeCommitSha)})`,
      });
      mergeSha = target.sha;
    } else {
      mergeSha = target.sha;
    }
  } else if (pr.merged) {
    mergeSha = pr.mergeCommitSha ?? undefined;
  } else if (pr.state === "closed") {
    problems.push({ code: "pr-closed", text: `pull request #${pr.number} was closed without merging` });
  }
  if (pr.baseRef !== pr.defaultBranch) {
    problems.push({
      code: "not-default-branch",
      text: `pull request #${pr.number} targets ${pr.baseRef}, not the default branch ${pr.defaultBranch}`,
    });
  }
  if (pr.headRepo === null) {
    problems.push({ code: "fork", text: `the head repository of #${pr.number} no longer exists, so it cannot be shown to be this repository` });
  } else if (pr.headRepo.toLowerCase() !== pr.baseRepo.toLowerCase()) {
    problems.push({
      code: "fork",
      text: `pull request #${pr.number} comes from ${pr.headRepo}, not from a branch of ${pr.baseRepo}: forks are refused`,
    });
  }
  return { problems, mergeSha };
}
