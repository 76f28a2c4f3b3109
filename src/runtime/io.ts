/**
 * Where a command's or an Actions step's output goes. Both write through this
 * instead of process.stdout so tests can capture every stream and assert that
 * no address appears in full. Below `cli` and `actions`, which are siblings
 * (docs/design.md, "Layers").
 */
export interface Io {
  /** Write to standard output (the command's result). */
  out(text: string): void;
  /** Write to standard error (diagnostics, progress). */
  err(text: string): void;
  /** True when standard output is a terminal (colour, progress bar). */
  readonly isTTY: boolean;
  /** The process environment, read once. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The clock (send_after, the ledger's times); the system clock when absent. Tests inject theirs. */
  readonly now?: () => Date;
}

/** The command's clock. */
export function clockOf(io: Io): () => Date {
  return io.now ?? (() => new Date());
}

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    env: { ...process.env },
  };
}
