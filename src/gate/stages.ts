/**
 * Eligible approvals → one approval per stage (assign.ts), and the reasons for
 * eligible approvals that still do not count where a reader would expect them
 * to: the same person already counts for another stage, the stage already
 * counts someone else, or (with `approvals.ordered`) the approval came before
 * the previous stage's. Pure.
 */
import type { EligibleApproval, StageOwners } from "./approvals.ts";
import { assignOrdered, assignUnordered, type Candidate } from "./assign.ts";
import { at } from "./identity.ts";
import type { NotCounted, StageResult } from "./result.ts";

export interface StageOutcome {
  readonly stages: readonly StageResult[];
  readonly notCounted: readonly NotCounted[];
}

export function assignStages(stages: readonly StageOwners[], eligibleIn: readonly EligibleApproval[], ordered: boolean): StageOutcome {
  // Preference order: earliest approval first, then lowest review id.
  const eligible = [...eligibleIn].sort((a, b) => (a.review.at === b.review.at ? a.review.id - b.review.id : a.review.at < b.review.at ? -1 : 1));
  const candidates: Candidate[] = eligible.map((e) => ({ time: e.review.at, stages: e.stages }));
  const assignment = ordered ? assignOrdered(stages.length, candidates) : assignUnordered(stages.length, candidates);

  const stageOf = new Map<number, number>(); // candidate -> stage
  assignment.forEach((c, s) => {
    if (c !== undefined) stageOf.set(c, s);
  });
  const firstOpen = assignment.findIndex((c) => c === undefined);
  const notCounted: NotCounted[] = [];

  eligible.forEach((e, c) => {
    const mine = stageOf.get(c);
    const base = { login: e.login, reviewId: e.review.id };
    if (mine !== undefined) {
      for (const s of [...e.stages].sort((a, b) => a - b)) {
        if (s === mine || assignment[s] !== undefined) continue;
        notCounted.push({
          ...base,
          stage: stages[s]!.name,
          reason: "same-person-other-stage",
          text: `same person as stage ${stages[mine]!.name}: ${at(e.login)} counts there, and one person counts for one stage only`,
        });
      }
      return;
    }
    const owned = [...e.stages].sort((a, b) => a - b);
    const blocked = ordered ? owned.find((s) => firstOpen >= 0 && s >= firstOpen) : undefined;
    if (blocked !== undefined) {
      const prev = blocked === firstOpen ? blocked - 1 : firstOpen;
      const prevStage = stages[prev];
      const prevApproval = prev >= 0 ? assignment[prev] : undefined;
      const text =
        prevStage === undefined
          ? `stage ${stages[blocked]!.name} cannot count this approval`
          : prevApproval !== undefined
            ? `submitted before stage ${prevStage.name} was approved; stages are approved in order, so ${at(e.login)} must approve again`
            : `stage ${prevStage.name} is not approved yet; stages are approved in order, so ${at(e.login)} must approve after it`;
      notCounted.push({ ...base, stage: stages[blocked]!.name, reason: "out-of-order", text });
      return;
    }
    const taken = owned.map((s) => {
      const holder = assignment[s];
      return holder === undefined ? stages[s]!.name : `${stages[s]!.name} (${at(eligible[holder]!.login)})`;
    });
    notCounted.push({
      ...base,
      reason: "stage-already-approved",
      text: `every stage ${at(e.login)} owns already counts another approval: ${taken.join(", ")}`,
    });
  });

  const results: StageResult[] = stages.map((stage, s) => {
    const c = assignment[s];
    if (c !== undefined) {
      const e = eligible[c]!;
      return {
        name: stage.name,
        owners: stage.owners,
        approval: { login: e.login, reviewId: e.review.id, commitId: e.review.commitId ?? "", submittedAt: e.review.submittedAt ?? "" },
      };
    }
    return { name: stage.name, owners: stage.owners, waiting: waitingText(stages, s, assignment, eligible, ordered) };
  });
  return { stages: results, notCounted };
}

function waitingText(
  stages: readonly StageOwners[],
  s: number,
  assignment: readonly (number | undefined)[],
  eligible: readonly EligibleApproval[],
  ordered: boolean,
): string {
  const stage = stages[s]!;
  const owners = stage.owners.join(", ");
  if (ordered) {
    const firstOpen = assignment.findIndex((c) => c === undefined);
    if (firstOpen >= 0 && firstOpen < s) return `waiting for stage ${stages[firstOpen]!.name} first (stages are approved in order)`;
  }
  const elsewhere = eligible
    .map((e, c) => ({ e, c }))
    .filter(({ e, c }) => e.stages.has(s) && assignment.includes(c))
    .map(({ e, c }) => `${at(e.login)} (counts for ${stages[assignment.indexOf(c)]!.name})`);
  if (elsewhere.length > 0) {
    return `waiting for an approval from another owner (${owners}): ${elsewhere.join(", ")} already count for another stage`;
  }
  return `waiting for an approval from an owner (${owners})`;
}
