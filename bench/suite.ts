/** What a bench suite is: bench/run.ts finds suites by name and runs them in order. */

export interface SuiteContext {
  /** A temporary folder of this suite's own, removed after the run (unless --keep). */
  tmp: string;
  /** Measured repetitions per case (--reps, default 5). */
  reps: number;
  /** `--name value` options not known to run.ts, for the suite to read (e.g. --rows). */
  options: ReadonlyMap<string, string>;
  log: (line: string) => void;
}

export interface SuiteResult {
  /** False when a measured command misbehaved (wrong exit code or output): bench exits 1. */
  valid: boolean;
  /** False when a stated goal was missed: bench exits 1 only with --strict. */
  goalsMet: boolean;
}

export interface Suite {
  name: string;
  description: string;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}
