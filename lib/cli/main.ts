#!/usr/bin/env node
/** The deepgen command (its commands: lib/cli/program.ts). */
import { survivingClosedPipes } from "./common.js";
import { runProgram } from "./program.js";

survivingClosedPipes();
await runProgram(process.argv);
