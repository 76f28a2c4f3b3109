// Types of bin/bundle.js (plain JavaScript: it runs before any TypeScript loader).

/** The project root (the folder holding bin/). */
export const ROOT: string;
/** Where the bundle is built: <root>/dist. */
export const DIST: string;
/** sha256 (hex) over every input of the build, in a fixed order. */
export function sourceHash(root?: string): string;
/** dist/BUILD.json when it was built from exactly this checkout's inputs, else null (also with NEWSLETTER_NO_BUNDLE=1). */
export function freshBundle(root?: string): { hash: string; entries: string[]; built: string } | null;
/** The key under globalThis where the launcher leaves the bundled compose thread's URL. */
export const BUNDLE_KEY: unique symbol;
/** Runs entry `name` ("cli/bin", "cli/start", "actions/bin"): bundled when fresh, else through tsx. */
export function launch(name: string): Promise<void>;
