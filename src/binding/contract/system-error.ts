// Kernel failures, in the shape of Node's own system errors (code, errno,
// syscall), so callers can branch on `err.code === 'EBUSY'` as they do for fs.
// The native addon builds these through the constructor it is handed at load
// time; the simulated binding builds them by name. Never bare strings.

import { os } from './builtins.js';

// os.constants.errno lacks a few Linux names the TUN driver really returns.
const EXTRA_ERRNOS: Record<string, number> = { EBADFD: 77, ENOTSUP: 95 };

const errnoByName: Record<string, number> = { ...EXTRA_ERRNOS, ...(os.constants.errno as Record<string, number>) };

const messageByName: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ENOSPC: 'No space left on device',
  ERANGE: 'Numerical result out of range',
  EOPNOTSUPP: 'Operation not supported',
  ENOTSUP: 'Operation not supported',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down',
  ENETUNREACH: 'Network is unreachable',
  ENOBUFS: 'No buffer space available',
  ETIMEDOUT: 'Connection timed out',
  EBADFD: 'File descriptor in bad state',
  ESRCH: 'No such process',
  EAFNOSUPPORT: 'Address family not supported by protocol',
};

export function errnoOf(code: string): number {
  const n = errnoByName[code];
  if (n === undefined) throw new TypeError(`unknown errno name ${code}`);
  return n;
}

export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(errnoByName)) if (value === errno) return name;
  return `E${errno}`;
}

export interface TunSystemErrorInit {
  /** errno name ('EBUSY'); derived from errno when absent. */
  code?: string;
  /** positive errno number; derived from code when absent. */
  errno?: number;
  /** the kernel conversation that failed: 'open', 'ioctl(TUNSETIFF)', 'RTM_NEWADDR', 'write' … */
  syscall: string;
  /** strerror text; a default per code when absent. */
  message?: string;
  /** netlink extended-ack text, when the kernel gave one. */
  extack?: string;
  /** the interface the call was about. */
  interfaceName?: string;
}

export class TunSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly extack: string | undefined;
  readonly interfaceName: string | undefined;

  constructor(init: TunSystemErrorInit) {
    const code = init.code ?? errnoName(init.errno ?? 0);
    const errno = init.errno ?? errnoOf(code);
    const text = init.message ?? messageByName[code] ?? 'Unknown error';
    let message = `${init.syscall} ${code}: ${text}`;
    if (init.extack) message += ` (${init.extack})`;
    if (init.interfaceName) message += ` [${init.interfaceName}]`;
    super(message);
    this.name = 'TunSystemError';
    this.code = code;
    this.errno = errno;
    this.syscall = init.syscall;
    this.extack = init.extack || undefined;
    this.interfaceName = init.interfaceName;
  }
}

export function isTunSystemError(err: unknown): err is TunSystemError {
  return err instanceof TunSystemError;
}
