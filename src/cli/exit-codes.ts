// The CLI's exit codes, documented in `tun-lifecycle --help` and the README.

export const ExitCode = {
  /** Done; for `up`, the interface was cleaned up and verified gone after Ctrl-C/SIGTERM. */
  Ok: 0,
  /** The lifecycle failed: configuration failed (retries exhausted or a permanent errno), cleanup failed or timed out. */
  Failed: 1,
  /** Bad command line (unknown command or option, invalid CIDR/MTU/name). */
  Usage: 2,
  /** Missing privilege: needs root or CAP_NET_ADMIN, and /dev/net/tun. */
  NoPrivilege: 3,
  /** The named interface does not exist. */
  NotFound: 4,
  /** Refused: `down` of an interface tun-lifecycle did not make, or one whose owner process is still running. */
  Refused: 5,
  /** A second Ctrl-C/SIGTERM while cleaning up: exited without waiting. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: printed as one clear message, no stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode, readonly hint?: string) {
    super(message);
    this.name = 'CliError';
  }
}
