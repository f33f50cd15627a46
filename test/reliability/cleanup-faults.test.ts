// Fault tolerance of cleanup, step by step (link down, address removal, route
// removal, persistent-link deletion, verification), on the simulated binding
// and on the native one (faults through withFaults, the rest real):
//  - failing once: cleanup still ends stopped with nothing left (retried
//    where the failure left something);
//  - failing always: either the other steps still free everything (stopped),
//    or a typed CleanupFailedError — and a later cleanup() succeeds once the
//    fault is cleared;
//  - hanging: CleanupTimeoutError at the deadline; once released, the late
//    run still frees everything and a later cleanup() ends stopped.

import { expect } from 'chai';
import { describeKernel } from '../helpers/netns.js';
import { ipLink } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { CleanupFailedError, CleanupTimeoutError, TunAdapter } from '../../src/index.js';
import type { AdapterOptions, TunBinding } from '../../src/index.js';
import { SimulatedBinding, withFaults } from '../../src/testing.js';
import type { BindingOp, FaultInjector } from '../../src/testing.js';
import { tunFdCount } from '../helpers/fds.js';
import { until } from '../helpers/wait.js';
import { recordResult } from './results.js';

const STEPS: BindingOp[] = ['setUp', 'deleteAddress', 'deleteRoute', 'deleteLink', 'getLink'];

interface Backend {
  binding: TunBinding;
  faults: FaultInjector;
  leftovers(name: string): string[];
}


let tried = 0;
let held = 0;
let leaks = 0;

function suite(kind: string, makeBackend: () => Promise<Backend>, name: string) {
  const options = (binding: TunBinding, extra: AdapterOptions = {}): AdapterOptions => ({
    binding, persist: true, retryAttempts: 2, retryDelay: 5, cleanupTimeout: 300,
    mtu: 1400, addresses: ['10.244.0.1/24', 'fd00:244::1/64'], routes: ['10.245.0.0/16', 'fd00:245::/64'], ...extra,
  });
  let backend: Backend;
  beforeEach(async () => { backend = await makeBackend(); });
  const expectClean = () => {
    const left = backend.leftovers(name);
    if (left.length > 0) leaks++;
    expect(left, 'left behind').to.deep.equal([]);
  };

  for (const step of STEPS) {
    it(`${kind}: ${step} failing once → stopped, nothing left`, async () => {
      tried++;
      const adapter = new TunAdapter(name, options(backend.binding));
      await adapter.start();
      const before = backend.faults.calls(step);
      backend.faults.fail(step, 'EBUSY', 1);
      await adapter.cleanup();
      expect(adapter.state).to.equal('stopped');
      expect(backend.faults.calls(step), `${step} was reached`).to.be.greaterThan(before);
      expectClean();
      held++;
    });

    it(`${kind}: ${step} failing always → stopped with nothing left, or CleanupFailedError and a later cleanup() succeeds once cleared`, async () => {
      tried++;
      const adapter = new TunAdapter(name, options(backend.binding));
      await adapter.start();
      backend.faults.fail(step, 'EBUSY', Infinity);
      const error = await adapter.cleanup().then(() => undefined, (e: unknown) => e);
      if (error === undefined) {
        // The other steps freed everything (e.g. closing the fds takes the addresses with the link).
        expect(adapter.state).to.equal('stopped');
      } else {
        expect(error).to.be.instanceOf(CleanupFailedError);
        expect((error as CleanupFailedError).code).to.equal('ERR_CLEANUP_FAILED');
        expect((error as CleanupFailedError).leftovers.length, 'names what is left').to.be.greaterThan(0);
        expect(adapter.state).to.equal('error');
        backend.faults.clear(step);
        await adapter.cleanup();
        expect(adapter.state).to.equal('stopped');
      }
      backend.faults.clear();
      expectClean();
      held++;
    });

    it(`${kind}: ${step} hanging → CleanupTimeoutError at the deadline; released, the late run frees everything; cleanup() then ends stopped`, async () => {
      tried++;
      const adapter = new TunAdapter(name, options(backend.binding));
      await adapter.start();
      const release = backend.faults.hang(step);
      const started = Date.now();
      const error = await adapter.cleanup().then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(CleanupTimeoutError);
      expect(Date.now() - started).to.be.within(290, 3000);
      expect(adapter.state).to.equal('error');
      release();
      await until(() => backend.leftovers(name).length === 0);
      await adapter.cleanup();
      expect(adapter.state).to.equal('stopped');
      expectClean();
      held++;
    });
  }
}

after(() => { if (tried > 0) recordResult('cleanup-faults', { tried, held, leaks, notes: `${STEPS.join(', ')} × once/always/hang` }); });

describe('reliability: cleanup fault tolerance (simulated)', () => {
  suite('simulated', async () => {
    const binding = new SimulatedBinding();
    return {
      binding,
      faults: binding.faults,
      leftovers: () => [
        ...binding.world.links().filter((l) => l.kind !== 'loopback').map((l) => `link ${l.name}`),
        ...binding.world.openFds().map((f) => `fd on ${f.name}`),
      ],
    };
  }, 'cft0');
});

describeKernel('reliability: cleanup fault tolerance (native)', function () {
  this.timeout(20_000);
  suite('native', async () => {
    const binding = withFaults(await loadNativeBinding());
    return {
      binding,
      faults: binding.faults,
      leftovers: (name) => [
        ...(ipLink(name) ? [`link ${name}`] : []),
        ...(tunFdCount() > 0 ? [`${tunFdCount()} tun fds`] : []),
      ],
    };
  }, 'cfn0');
});
