// The shared contract against the native binding, in the run's private
// namespace, every answer cross-checked with iproute2.

import { describeKernel } from '../helpers/netns.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { bindingContract } from '../contract/binding-contract.js';
import { kernelHarness } from './kernel-world.js';

describeKernel('native binding', function () {
  bindingContract('native', kernelHarness(loadNativeBinding));
});
