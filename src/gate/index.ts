/**
 * The approval gate: pure rules (evaluate.ts) over a narrow port (port.ts)
 * that the GitHub REST adapter implements, and a report for people.
 */
export { evaluateGate, type GateInput } from "./evaluate.ts";
export { formatGateReport, gateStatusLine } from "./report.ts";
export type {
  Account,
  AccountType,
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
} from "./port.ts";
export { GATE_PORT_METHODS, type GatePortMethod } from "./port.ts";
export type { Approval, GateResult, NotCounted, Problem, ProblemCode, ReasonCode, StageResult, Warning, WarningCode } from "./result.ts";
