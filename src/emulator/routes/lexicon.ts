import type { EmulatorRoute } from '../types.js';

export const lexiconRoutes: readonly EmulatorRoute[] = [];
