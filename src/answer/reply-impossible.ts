// GitHub refusals that a redelivery cannot fix: the issue or comment is gone (404, 410), locked,
// or comments are disabled (403 with such a message). The ledger is already safe when a reply is
// written, so these end the delivery normally; anything else is thrown for Probot to log.
export function isReplyImpossible(error: unknown): boolean {
  const status = (error as { status?: number } | null)?.status;
  if (status === 404 || status === 410) return true;
  if (status !== 403 && status !== 422) return false;
  const message = String((error as { message?: unknown }).message ?? "");
  // Rate limits are 403 too, and a redelivery does fix those: only these words count.
  return /locked|comments? (are|is) disabled|disabled comments|archived/i.test(message);
}
