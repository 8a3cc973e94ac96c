// Who may change the ledger: asked of the API for each event (a payload's author_association is
// not a permission and may be stale).
import type { Context } from "probot";

type Octokit = Context["octokit"];

export interface RepoPermission {
  /** Legacy level: admin, write, read or none (maintain shows as write, triage as read). */
  permission: string;
  /** Role: admin, maintain, write, triage, read, or a custom role's name. */
  roleName: string;
}

export async function getPermission(octokit: Octokit, owner: string, repo: string, username: string): Promise<RepoPermission> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    return { permission: data.permission ?? "none", roleName: data.role_name ?? data.permission ?? "none" };
  } catch (error) {
    // 404: not a collaborator (or an unknown user): no access.
    if ((error as { status?: number }).status === 404) return { permission: "none", roleName: "none" };
    throw error;
  }
}

/** write, maintain, admin, and custom roles built on write. */
export function canUpload(p: RepoPermission): boolean {
  return p.permission === "admin" || p.permission === "write" || ["admin", "maintain", "write"].includes(p.roleName);
}

/** Removing an instance: maintain or admin only. */
export function canForget(p: RepoPermission): boolean {
  return p.permission === "admin" || p.roleName === "admin" || p.roleName === "maintain";
}

/** What to tell the person they have: the role, which is what the repository settings show. */
export function describePermission(p: RepoPermission): string {
  return p.roleName === "none" ? "none" : p.roleName;
}
