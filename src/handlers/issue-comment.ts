import type { Context } from "probot";
import type { AppDeps } from "../index.js";

// Placeholder until the handler lands; replaced by its own issue's work.
export async function onIssueComment(_context: Context, _deps: AppDeps): Promise<void> {}
