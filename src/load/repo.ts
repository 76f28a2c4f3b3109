/**
 * The narrow port through which checks, manifest and send read a newsletter
 * repository. The core never touches the filesystem; `fs-repo.ts` implements
 * this on disk and tests may implement it in memory.
 *
 * All paths are repository-relative with `/` separators.
 */
export interface RepoPort {
  /**
   * The whole file as bytes. Throws UnreadableInputError (exit 2) when the
   * file is missing, is not a regular file, or cannot be read.
   */
  readBytes(path: string): Promise<Uint8Array>;

  /**
   * The file as a stream of chunks, for lists that may hold millions of rows.
   * Throws UnreadableInputError before yielding when the file is missing.
   */
  streamBytes(path: string): AsyncIterable<Uint8Array>;

  /** True when a regular file exists at `path`. Never throws for a missing file. */
  isFile(path: string): Promise<boolean>;

  /** True when a directory exists at `path`. */
  isDir(path: string): Promise<boolean>;

  /**
   * Entries directly inside a directory, sorted by name, each with its kind.
   * Throws UnreadableInputError when the directory is missing.
   */
  list(path: string): Promise<Array<{ name: string; kind: "file" | "dir" | "other" }>>;
}
