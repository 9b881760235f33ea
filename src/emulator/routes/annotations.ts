import type { EmulatorRoute } from '../types.js';

export const annotationRoutes: readonly EmulatorRoute[] = [];
