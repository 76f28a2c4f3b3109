/**
 * What the approval gate decides, as data: per stage the approval that counts,
 * for every review that does not count the reason, PR-level problems and
 * warnings. Codes are stable (tests, the audit record and the CLI branch on
 * them); texts are for people and may change.
 */

/** Why one review does not count (towards one stage, when `stage` is set). */
export type ReasonCode =
  /** A COMMENTED review: a comment, not an approval. */
  | "comment-only"
  /** A PENDING review: started, never submitted. */
  | "pending"
  /** A CHANGES_REQUESTED review. */
  | "changes-requested"
  /** The review was dismissed (GitHub reports its state as DISMISSED). */
  | "dismissed"
  /** An approval followed by a later approval of the same person: only the latest counts. */
  | "superseded"
  /** An approval followed by the same person's later CHANGES_REQUESTED or DISMISSED review. */
  | "cancelled-by-later-review"
  /** Not a person: account type Bot (or other non-User), or a login ending in `[bot]`. */
  | "bot"
  /** The pull request's author. */
  | "pr-author"
  /** Authored or committed a commit of the pull request. */
  | "commit-author"
  /** Pushed to the pull request's head branch (repository activity), whatever the commits say. */
  | "pusher"
  /** Submitted on a commit other than the final head. */
  | "older-commit"
  /** On the final head, but submitted before the last push to it (carried forward). */
  | "before-last-push"
  /** Not an owner of any stage. */
  | "not-owner"
  /** Would own a stage through a team whose invitation is still pending. */
  | "team-membership-pending"
  /** An owner who no longer has write (or higher) permission on the repository. */
  | "no-write-permission"
  /** Counts for another stage; one person counts for one stage only. */
  | "same-person-other-stage"
  /** Eligible, but every stage they own already counts someone else. */
  | "stage-already-approved"
  /** `approvals.ordered`: submitted before the previous stage was approved. */
  | "out-of-order";

/** Why the pull request as a whole is refused, whatever its reviews. */
export type ProblemCode =
  /** No pull request introduced the commit (a direct push). */
  | "no-pr"
  /** More than one pull request is associated with the commit. */
  | "multiple-prs"
  /** `--sha`: the pull request is not merged. */
  | "not-merged"
  /** `--pr`: the pull request was closed without merging. */
  | "pr-closed"
  /** `--sha`: the commit is not the pull request's merge commit (the base branch tip it produced). */
  | "not-merge-commit"
  /** The pull request does not target the default branch. */
  | "not-default-branch"
  /** The head branch is in another repository (a fork), or its repository is gone. */
  | "fork"
  /** The pull request changes a CODEOWNERS file. */
  | "codeowners-changed"
  /** The pull request changes `.github/newsletter.yml`. */
  | "gate-config-changed"
  /** The pull request changes another file under `.github/` (workflows, ...). */
  | "github-dir-changed"
  /**
   * Not a content-only change: the pull request (or its merge commit against the first parent)
   * changes something outside exactly one newsletters/<id>/ and recipients/.
   */
  | "not-content-only"
  /** The merged tree differs from the reviewed head for newsletters/, recipients/ or .github/. */
  | "tree-differs"
  /** A code owner's (or stage owner's) latest review requests changes. */
  | "owner-changes-requested"
  /** The base branch's CODEOWNERS has lines GitHub skips: who owns what is uncertain. */
  | "codeowners-invalid"
  /** A commit whose author or committer is linked to no GitHub account: "authored no commit" cannot be verified. */
  | "commit-unattributed";

export type WarningCode =
  | "rules-approval-count"
  | "rules-code-owner-review"
  | "rules-dismiss-stale"
  | "rules-last-push-approval"
  | "rules-bypass-actors"
  | "rules-status-checks"
  | "rules-unknown"
  | "no-codeowners"
  | "codeowners-email-owner"
  | "path-unowned";

export interface Approval {
  readonly login: string;
  readonly reviewId: number;
  readonly commitId: string;
  readonly submittedAt: string;
}

export interface StageResult {
  readonly name: string;
  /** Owners as configured (`@user`, `@org/team`). */
  readonly owners: readonly string[];
  /** The approval that counts for this stage. */
  readonly approval?: Approval;
  /** Set when no approval counts: what the stage is waiting for. */
  readonly waiting?: string;
}

export interface NotCounted {
  readonly login: string;
  readonly reviewId: number;
  /** Set when the reason concerns one stage (e.g. same-person-other-stage). */
  readonly stage?: string;
  readonly reason: ReasonCode;
  readonly text: string;
}

export interface Problem {
  readonly code: ProblemCode;
  readonly text: string;
}

export interface Warning {
  readonly code: WarningCode;
  readonly text: string;
}

export interface GateResult {
  /** Every stage approved and no problem. */
  readonly approved: boolean;
  /** "merged": a merged PR, checked in full; "open": progress of an open PR; "none": no single PR found. */
  readonly mode: "merged" | "open" | "none";
  readonly pr: number | null;
  readonly headSha: string | null;
  /** The merged commit checked against the head (the `--sha`, else the PR's merge commit). */
  readonly mergeSha?: string;
  readonly author?: string;
  /** Server time of the last push to the head (see GatePort.lastPushAt). */
  readonly lastPushAt?: string;
  readonly ordered: boolean;
  readonly evaluatedAt: string;
  readonly stages: readonly StageResult[];
  readonly notCounted: readonly NotCounted[];
  readonly problems: readonly Problem[];
  readonly warnings: readonly Warning[];
}
