// The shared sample exports: shared/samples beside the repository (where CI puts its copy of
// shared/), or LICENSE_SYNC_SAMPLES. Found from this file, not from the working directory, so a
// test run from anywhere reads the same files. No trailing slash.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root directory. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const SAMPLES = process.env.LICENSE_SYNC_SAMPLES ? resolve(process.env.LICENSE_SYNC_SAMPLES) : resolve(REPO_ROOT, "../shared/samples");
