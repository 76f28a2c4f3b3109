#!/usr/bin/env node
// The `newsletter` command (README.md): the pre-built bundle when it matches
// the sources, else the TypeScript sources through tsx (bin/bundle.js).
import { launch } from "./bundle.js";
await launch("cli/bin");
