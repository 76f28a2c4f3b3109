/**
 * Which eligible approval counts for which stage. One person counts for one
 * stage only (docs/design.md, "The approval gate": a distinct owner per stage),
 * so this is a bipartite matching between stages and people: a person who owns
 * two stages must not block another owner of one of them.
 *
 * Deterministic and earliest-first: the result is a maximum matching (the most
 * stages that can count), and among all maximum matchings, the one that gives
 * the first stage its earliest possible approval, then the second stage its
 * earliest possible approval given that, and so on. It is built greedily with
 * a feasibility check (augmenting paths, Kuhn's algorithm) at each choice.
 *
 * With `approvals.ordered`, the counted approvals must also be submitted in
 * stage order (strictly increasing times), and a stage counts only if all
 * earlier stages count: the result is the longest such prefix, earliest
 * approvals first in the same sense. Pure and synchronous.
 */
import { GateError } from "../errors.ts";

export interface Candidate {
  /** Submission time (ms). Candidates are passed sorted by (time, review id): index order is preference order. */
  readonly time: number;
  /** Indexes of the stages this person may approve. */
  readonly stages: ReadonlySet<number>;
}

/** For each stage, the index of the candidate that counts, or undefined. */
export type Assignment = readonly (number | undefined)[];

/** Size of a maximum matching of stages `from..stageCount-1` to candidates not in `used`. */
function maxMatching(stageCount: number, from: number, candidates: readonly Candidate[], used: ReadonlySet<number>): number {
  const stageOf = new Map<number, number>(); // candidate -> stage
  const tryStage = (s: number, seen: Set<number>): boolean => {
    for (let c = 0; c < candidates.length; c++) {
      if (used.has(c) || seen.has(c) || !candidates[c]!.stages.has(s)) continue;
      seen.add(c);
      const other = stageOf.get(c);
      if (other === undefined || tryStage(other, seen)) {
        stageOf.set(c, s);
        return true;
      }
    }
    return false;
  };
  let size = 0;
  for (let s = from; s < stageCount; s++) if (tryStage(s, new Set())) size++;
  return size;
}

/** Any order: a maximum matching, earliest approvals first in stage order. */
export function assignUnordered(stageCount: number, candidates: readonly Candidate[]): Assignment {
  const out: (number | undefined)[] = [];
  const used = new Set<number>();
  for (let s = 0; s < stageCount; s++) {
    const target = maxMatching(stageCount, s, candidates, used);
    let chosen: number | undefined;
    for (let c = 0; c < candidates.length && chosen === undefined; c++) {
      if (used.has(c) || !candidates[c]!.stages.has(s)) continue;
      used.add(c);
      if (1 + maxMatching(stageCount, s + 1, candidates, used) === target) chosen = c;
      else used.delete(c);
    }
    out.push(chosen);
  }
  return out;
}

/** Upper bound on search steps for ordered stages; beyond it the gate refuses to guess. */
export const ORDERED_SEARCH_BUDGET = 200_000;

/** Ordered: the longest prefix of stages approved by distinct people at strictly increasing times. */
export function assignOrdered(stageCount: number, candidates: readonly Candidate[], budget = ORDERED_SEARCH_BUDGET): Assignment {
  let steps = 0;
  // Longest prefix of stages s.. approvable by candidates not in `used`, each later than `after`.
  const longest = (s: number, used: Set<number>, after: number): number => {
    if (++steps > budget) {
      throw new GateError("invalid-response", `too many ways to assign ${candidates.length} approvals to ${stageCount} ordered stages; refusing to guess`);
    }
    if (s >= stageCount) return 0;
    let best = 0;
    for (let c = 0; c < candidates.length; c++) {
      const cand = candidates[c]!;
      if (used.has(c) || cand.time <= after || !cand.stages.has(s)) continue;
      used.add(c);
      const len = 1 + longest(s + 1, used, cand.time);
      used.delete(c);
      if (len > best) best = len;
      if (best === stageCount - s) break;
    }
    return best;
  };

  const out: (number | undefined)[] = new Array<number | undefined>(stageCount).fill(undefined);
  const used = new Set<number>();
  let after = Number.NEGATIVE_INFINITY;
  const total = longest(0, new Set(), after);
  for (let s = 0; s < total; s++) {
    const target = total - s;
    for (let c = 0; c < candidates.length; c++) {
      const cand = candidates[c]!;
      if (used.has(c) || cand.time <= after || !cand.stages.has(s)) continue;
      used.add(c);
      if (1 + longest(s + 1, used, cand.time) === target) {
        out[s] = c;
        after = cand.time;
        break;
      }
      used.delete(c);
    }
  }
  return out;
}
