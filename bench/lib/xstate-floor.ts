// The least any XState v5 statechart can add to a create: a three-state
// machine (uninitialized → initializing → ready) that invokes one promise
// actor making the given binding calls and, in ready, one callback actor
// starting the link monitor — no guards, context, retries, logging or
// adapter around it. What the real adapter costs beyond this row is ours;
// what this row costs beyond the bare calls is XState's own.
import { createActor, fromCallback, fromPromise, setup } from 'xstate';

export interface FloorParts<T> {
  /** The create calls (open, configure, read-back). */
  create(): Promise<T>;
  /** Start watching what create made; returns what stops it. */
  watch(made: T): () => void;
}

export interface FloorRun<T> {
  made: T;
  /** Stops the actor (and with it the watch). */
  stop(): void;
}

/** What one run's actors share: the calls to make and, once made, their result. */
interface Run {
  parts: FloorParts<unknown>;
  made?: unknown;
}

// Made once, like the adapter's: building a machine per create would charge
// the floor for XState's state-node tree, which the adapter does not pay.
const floorMachine = setup({
  types: { context: {} as { run: Run }, input: {} as Run },
  actors: {
    create: fromPromise<unknown, Run>(async ({ input }) => {
      input.made = await input.parts.create();
      return input.made;
    }),
    watch: fromCallback<{ type: string }, Run>(({ input }) => input.parts.watch(input.made)),
  },
}).createMachine({
  context: ({ input }) => ({ run: input }),
  initial: 'uninitialized',
  states: {
    uninitialized: { on: { START: 'initializing' } },
    initializing: { invoke: { src: 'create', input: ({ context }) => context.run, onDone: 'ready' } },
    ready: { invoke: { src: 'watch', input: ({ context }) => context.run } },
  },
});

/** One create through the minimal machine: resolves once the actor is in ready. */
export async function createThroughFloor<T>(parts: FloorParts<T>): Promise<FloorRun<T>> {
  const run: Run = { parts: parts as FloorParts<unknown> };
  const actor = createActor(floorMachine, { input: run });
  actor.start();
  await new Promise<void>((resolve, reject) => {
    const sub = actor.subscribe({
      next: (snapshot) => {
        if (snapshot.value !== 'ready') return;
        sub.unsubscribe();
        resolve();
      },
      error: reject,
    });
    actor.send({ type: 'START' });
  });
  return { made: run.made as T, stop: () => actor.stop() };
}
