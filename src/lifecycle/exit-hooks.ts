// Process exit paths. Always: a best-effort synchronous teardown on 'exit'
// (closing fds is synchronous; a persistent link cannot be deleted without
// async netlink, so it stays behind tagged and a later start reclaims it).
// Opt-in (handleSignals): SIGINT/SIGTERM/SIGHUP clean up every such adapter
// within its deadline, then the signal is re-raised; a second signal exits at once.

export interface ExitParticipant {
  readonly handlesSignals: boolean;
  /** Synchronous, never throws. */
  teardownSync(): void;
  cleanupForExit(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HandledSignal = (typeof SIGNALS)[number];

const participants = new Set<ExitParticipant>();
// Kept as a count so that registering and unregistering stay O(1) with thousands of adapters.
let signalParticipants = 0;
let exitHooked = false;
let signalsHooked = false;
let shuttingDown = false;

function onExit(): void {
  for (const participant of participants) participant.teardownSync();
}

function onSignal(signal: HandledSignal): void {
  if (shuttingDown) {
    // Second signal: stop waiting. 'exit' still closes the fds synchronously.
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  }
  shuttingDown = true;
  const cleanups = [...participants].filter((p) => p.handlesSignals).map((p) => p.cleanupForExit().catch(() => undefined));
  void Promise.all(cleanups).then(() => {
    unhookSignals();
    // Let the signal do what it would have done without us, unless the app listens too.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

const handlers = new Map<HandledSignal, () => void>(SIGNALS.map((signal) => [signal, () => onSignal(signal)]));

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const [signal, handler] of handlers) process.on(signal, handler);
}

function unhookSignals(): void {
  if (!signalsHooked) return;
  signalsHooked = false;
  for (const [signal, handler] of handlers) process.off(signal, handler);
}

export function registerForExit(participant: ExitParticipant): void {
  if (participants.has(participant)) return;
  participants.add(participant);
  if (participant.handlesSignals) signalParticipants += 1;
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', onExit);
  }
  if (participant.handlesSignals && !shuttingDown) hookSignals();
}

export function unregisterForExit(participant: ExitParticipant): void {
  if (!participants.delete(participant)) return;
  if (participant.handlesSignals) signalParticipants -= 1;
  if (participants.size === 0 && exitHooked) {
    exitHooked = false;
    process.off('exit', onExit);
  }
  if (signalParticipants === 0) unhookSignals();
}
