/**
 * The send loop's compose-and-guard step: every message is composed and guarded before any
 * message of its group is handed over (docs/design.md, "The per-message guard").
 */
import type { BuiltGroup, Checked, SendItem } from "../pipeline-types.ts";
import type { LoopState } from "./state.ts";

/** Composes and guards a group on this thread, stopping at the first message the guard refuses. */
export function buildHere(loop: LoopState, group: readonly SendItem[]): BuiltGroup {
  const messages: Checked[] = [];
  for (const item of group) {
    const out = item.build();
    const verdict = loop.deps.guard(out.raw, out.envelope, out.guard);
    if (!verdict.ok) return { messages, violation: verdict };
    messages.push(out);
  }
  return { messages };
}

/**
 * The messages to hand over, or null when the guard refused one: a violation aborts the whole
 * send, and the first one is what the summary reports.
 */
export function acceptBuilt(loop: LoopState, built: BuiltGroup): Checked[] | null {
  if (built.violation === undefined) return built.messages;
  const v = built.violation;
  loop.result.guardViolation ??= v;
  loop.halt.stop({ kind: "abort", reason: `guard: ${v.reason} in ${v.where} (${v.masked})` });
  return null;
}

/**
 * Starts composing a group: on compose threads when the loop has them (`deps.buildGroup`), else
 * here and now. Not awaited here: a failure surfaces through the hand-over, which releases the group.
 */
export function startBuild(loop: LoopState, group: readonly SendItem[]): Promise<Checked[] | null> {
  let built: Promise<Checked[] | null>;
  if (loop.deps.buildGroup) {
    built = loop.deps.buildGroup(group).then((b) => acceptBuilt(loop, b));
  } else {
    try {
      built = Promise.resolve(acceptBuilt(loop, buildHere(loop, group)));
    } catch (e) {
      built = Promise.reject(e);
    }
  }
  built.catch(() => undefined);
  return built;
}
