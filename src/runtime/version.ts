/**
 * The tool's version, from package.json (reported in SARIF and audit records).
 * Imported rather than read beside this file: in the bundle (scripts/build.js)
 * this module sits in a chunk of dist/, where no relative path reaches it.
 */
import pkg from "../../package.json" with { type: "json" };

export const TOOL_VERSION: string = pkg.version;
