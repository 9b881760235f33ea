/**
 * Cohort membership: a cohort is its rule (an engage `where` expression)
 * evaluated against the current profiles, so ingestion moves members in and out.
 */
import type { CohortRecord } from '../mixpanel/types.js';
import type { EmulatorCohort, EmulatorProfile, EmulatorProjectData } from './types.js';
import { compileWhere, evaluateWhere } from './where.js';

export function findCohort(data: EmulatorProjectData, cohortId: number | string): EmulatorCohort | undefined {
  const id = Number(cohortId);
  return data.cohorts.find((c) => c.id === id);
}

/** Current members in profile order; empty for an unknown cohort. */
export function cohortMembers(data: EmulatorProjectData, cohortId: number | string): EmulatorProfile[] {
  const cohort = findCohort(data, cohortId);
  if (!cohort) return [];
  const rule = compileWhere(cohort.where);
  const members: EmulatorProfile[] = [];
  for (const profile of data.profiles.values()) {
    if (evaluateWhere(rule, { properties: profile.properties, user: profile.properties })) members.push(profile);
  }
  return members;
}

export function cohortCount(data: EmulatorProjectData, cohortId: number | string): number {
  return cohortMembers(data, cohortId).length;
}

/** The cohorts/list body. */
export function listCohorts(data: EmulatorProjectData): CohortRecord[] {
  return data.cohorts.map((cohort) => ({
    count: cohortCount(data, cohort.id),
    is_visible: cohort.isVisible ? 1 : 0,
    description: cohort.description,
    created: cohort.created,
    project_id: Number(data.projectId),
    id: cohort.id,
    name: cohort.name,
  }));
}
