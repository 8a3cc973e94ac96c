// The "license usage" check run on a commit: visible in the commit list and in pull requests.
import type { Context } from "probot";
import { fitCommentBody } from "../domain/render.js";

type Octokit = Context["octokit"];

export const CHECK_NAME = "license usage";
/** The API takes at most 50 annotations per request. */
const ANNOTATIONS_PER_REQUEST = 50;

export interface CheckAnnotation {
  path: string;
  line: number;
  title: string;
  message: string;
}

export interface CheckRunInput {
  owner: string;
  repo: string;
  headSha: string;
  conclusion: "success" | "failure" | "neutral";
  title: string;
  /** Markdown, capped at the API's 65,535 characters. */
  summary: string;
  annotations: CheckAnnotation[];
}

function toApi(a: CheckAnnotation) {
  return {
    path: a.path,
    start_line: a.line,
    end_line: a.line,
    annotation_level: "failure" as const,
    title: a.title.slice(0, 255),
    message: a.message.slice(0, 64_000),
  };
}

/** Creates a completed check run; annotations beyond the first 50 are added by updates. */
export async function publishCheckRun(octokit: Octokit, input: CheckRunInput): Promise<number> {
  const summary = fitCommentBody(input.summary);
  const batches: CheckAnnotation[][] = [];
  for (let i = 0; i < input.annotations.length; i += ANNOTATIONS_PER_REQUEST) {
    batches.push(input.annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  }
  const output = (batch: CheckAnnotation[] | undefined) => ({
    title: input.title,
    summary,
    ...(batch ? { annotations: batch.map(toApi) } : {}),
  });
  const { data } = await octokit.rest.checks.create({
    owner: input.owner,
    repo: input.repo,
    name: CHECK_NAME,
    head_sha: input.headSha,
    status: "completed",
    conclusion: input.conclusion,
    completed_at: new Date().toISOString(),
    output: output(batches[0]),
  });
  for (const batch of batches.slice(1)) {
    await octokit.rest.checks.update({ owner: input.owner, repo: input.repo, check_run_id: data.id, output: output(batch) });
  }
  return data.id;
}
