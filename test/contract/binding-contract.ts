// THE contract suite: the same assertions against every TunBinding. Each test
// checks the binding's own answer AND an independent observer of the world
// (ip -j for the kernel, the simulation's ground truth for the simulated
// binding), so a binding that agrees only with itself fails.
//
// One entry, one file per area; the world each test runs in and the helpers
// the areas share are in ./context.ts.

import type { ContractHarness } from './observer.js';
import { useContractWorld } from './context.js';
import { openContract } from './open.js';
import { linksContract } from './links.js';
import { addressesContract } from './addresses.js';
import { routesContract } from './routes.js';
import { configureContract } from './configure.js';
import { openWithPlanContract } from './open-with-plan.js';
import { faultPlansContract } from './fault-plans.js';
import { monitorContract } from './monitor.js';
import { queuesContract } from './queues.js';
import { badInputContract } from './bad-input.js';

export function bindingContract(label: string, harness: ContractHarness): void {
  describe(`TunBinding contract: ${label}`, function () {
    useContractWorld(label, harness);
    openContract();
    linksContract();
    addressesContract();
    routesContract();
    configureContract();
    openWithPlanContract();
    if (harness.injectsFaults) faultPlansContract();
    monitorContract();
    queuesContract();
    badInputContract();
  });
}
