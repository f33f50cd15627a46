// The policy the model is built with and the replayed adapters use: one retry
// keeps the graph small while still taking both branches of the retry guard.

import { DEFAULT_REPLAY_CONFIG } from '../../src/testing.js';

export const MODEL_POLICY = {
  retryAttempts: DEFAULT_REPLAY_CONFIG.retryAttempts,
  retryDelay: DEFAULT_REPLAY_CONFIG.retryDelay,
  cleanupTimeout: DEFAULT_REPLAY_CONFIG.cleanupTimeout,
};

export const FAULT_REASONS = ['deleted', 'down', 'address-removed'] as const;
