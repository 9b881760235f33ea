import type { EmulatorRoute } from '../types.js';

export const ingestionRoutes: readonly EmulatorRoute[] = [];
