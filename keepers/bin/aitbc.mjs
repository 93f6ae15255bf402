#!/usr/bin/env node
// The `aitbc` command (package.json "bin"): runs keepers/cli.ts through tsx, so the daemons need no build step.
import { register } from "tsx/esm/api";

register();
await import("../cli.ts");
