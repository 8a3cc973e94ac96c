// The issue's outcome label: `license-usage: recorded` or `license-usage: refused`, created in the
// repository when missing. Only the calls that change something are made.
import type { Context } from "probot";

type Octokit = Context["octokit"];

export const LABEL_RECORDED = "license-usage: recorded";
export const LABEL_REFUSED = "license-usage: refused";

const LABELS = {
  [LABEL_RECORDED]: { color: "2da44e", description: "license-sync recorded every export in this issue" },
  [LABEL_REFUSED]: { color: "cf222e", description: "license-sync could not record an export in this issue" },
} as const;

export type OutcomeLabel = keyof typeof LABELS;

function status(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

/** Creates the label; "already exists" (422) is fine. */
export async function ensureLabel(octokit: Octokit, owner: string, repo: string, name: OutcomeLabel): Promise<void> {
  try {
    await octokit.rest.issues.createLabel({ owner, repo, name, ...LABELS[name] });
  } catch (error) {
    if (status(error) !== 422) throw error;
  }
}

/**
 * Puts `label` on the issue and takes the other outcome label off. `current` is the issue's labels
 * from the payload, so nothing is called when the issue already has the right one.
 */
export async function setOutcomeLabel(
  octokit: Octokit,
  target: { owner: string; repo: string; issueNumber: number; current: readonly string[] },
  label: OutcomeLabel,
): Promise<void> {
  const { owner, repo, issueNumber } = target;
  const other: OutcomeLabel = label === LABEL_RECORDED ? LABEL_REFUSED : LABEL_RECORDED;
  if (!target.current.includes(label)) {
    await ensureLabel(octokit, owner, repo, label);
    await octokit.rest.issues.addLabels({ owner, repo, issue_number: issueNumber, labels: [label] });
  }
  if (target.current.includes(other)) {
    try {
      await octokit.rest.issues.removeLabel({ owner, repo, issue_number: issueNumber, name: other });
    } catch (error) {
      if (status(error) !== 404) throw error;
    }
  }
}
