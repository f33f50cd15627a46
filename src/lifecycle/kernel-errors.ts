// Small helpers for reading kernel errors where an error is the expected answer
// (deleting what is already gone, asking about a link that vanished).

export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Run a kernel call; the listed errno names count as success (already done). */
export async function tolerate(call: () => Promise<unknown>, ...codes: string[]): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!codes.includes(codeOf(error) ?? '')) throw error;
  }
}

/** The link is gone: ENODEV from the kernel. */
export function isGone(error: unknown): boolean {
  return codeOf(error) === 'ENODEV';
}
